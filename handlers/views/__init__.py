"""Screens: text + keyboard for every step, built from service results. Pure values, no I/O.

base.py holds what every screen is made of; the other modules hold one feature's screens each.
"""
