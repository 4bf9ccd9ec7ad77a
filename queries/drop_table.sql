-- Drops a table's definition before it is created again. The tables it is used on are external:
-- their data stays where it is.
DROP TABLE IF EXISTS ${database}.${table}
