"""Calendar versions raised by triggers (see the SQLite migration 7).

Each booking change updates its specialist's row, so two transactions booking the same
specialist queue on that row until commit; bookings of different specialists do not meet."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext

VERSION = 4
NAME = "calendar versions: raised by triggers on bookings, hours and exceptions"

SQL = """
CREATE TABLE calendar_versions (
    specialist_id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE FUNCTION bump_calendar_version(sid BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO calendar_versions (specialist_id, version) VALUES (sid, 1)
    ON CONFLICT (specialist_id) DO UPDATE SET version = calendar_versions.version + 1
$$;

CREATE FUNCTION calendar_bookings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bump_calendar_version(NEW.specialist_id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM bump_calendar_version(OLD.specialist_id);
    ELSIF OLD.status IS DISTINCT FROM NEW.status OR OLD.start_at IS DISTINCT FROM NEW.start_at
          OR OLD.busy_until IS DISTINCT FROM NEW.busy_until
          OR OLD.specialist_id IS DISTINCT FROM NEW.specialist_id THEN
        PERFORM bump_calendar_version(OLD.specialist_id);
        IF NEW.specialist_id IS DISTINCT FROM OLD.specialist_id THEN
            PERFORM bump_calendar_version(NEW.specialist_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION calendar_hours_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM bump_calendar_version(COALESCE(OLD.specialist_id, 0));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM bump_calendar_version(COALESCE(NEW.specialist_id, 0));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER bookings_cal AFTER INSERT OR UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION calendar_bookings_changed();
CREATE TRIGGER hours_cal AFTER INSERT OR UPDATE OR DELETE ON working_hours
    FOR EACH ROW EXECUTE FUNCTION calendar_hours_changed();
CREATE TRIGGER exceptions_cal AFTER INSERT OR UPDATE OR DELETE ON schedule_exceptions
    FOR EACH ROW EXECUTE FUNCTION calendar_hours_changed();
"""


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(SQL)
