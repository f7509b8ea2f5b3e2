-- Wake `events --watch` (and anything else following history) when an event is recorded or a
-- repeat bumps its count: NOTIFY object_events with the event id and its tenant, instead of
-- polling the events table.
CREATE FUNCTION notify_event_recorded() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('object_events', json_build_object('id', NEW.id, 'owner', NEW.owner, 'uid', NEW.object_uid)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_recorded
  AFTER INSERT OR UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION notify_event_recorded();
