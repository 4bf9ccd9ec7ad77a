-- Creates the job's database. Run only when ensure-db found it missing.
CREATE DATABASE IF NOT EXISTS ${database}
