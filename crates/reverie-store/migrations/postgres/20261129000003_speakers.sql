-- Who said an event, when the source names the participant (a chat among people, OpenAI's
-- `name`).
ALTER TABLE session_events ADD COLUMN speaker TEXT;
