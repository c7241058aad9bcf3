-- Raises a serialization failure (SQLSTATE 40001, which the service retries) from inside a statement:
-- a commit group sends its writes and its COMMIT in one round trip, and a product found at another
-- version than the group read must stop the COMMIT behind it.
CREATE FUNCTION allocation_conflict(message text) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = message;
END
$$;
