-- Wake readers (MCP tools called with wait: true, the CLI's --watch) when an object's status or
-- existence changes, instead of polling: NOTIFY object_changes with the tenant and uid.
CREATE FUNCTION notify_object_change() RETURNS trigger AS $$
DECLARE
  row objects%ROWTYPE;
BEGIN
  IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
  PERFORM pg_notify('object_changes', json_build_object('owner', row.owner, 'uid', row.uid, 'kind', row.kind, 'op', TG_OP)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER objects_status_changed
  AFTER UPDATE OF status, deletion_timestamp ON objects
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.deletion_timestamp IS DISTINCT FROM NEW.deletion_timestamp)
  EXECUTE FUNCTION notify_object_change();

CREATE TRIGGER objects_deleted
  AFTER DELETE ON objects
  FOR EACH ROW EXECUTE FUNCTION notify_object_change();
