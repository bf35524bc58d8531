-- The manifest of what the run read (staged as `incoming`; a file read over several chunks has a
-- row per chunk, the last read wins). Returns how many sources it changes beyond the time of
-- reading, so a run that only read unchanged things changes nothing.
CREATE OR REPLACE TEMP TABLE read_sources AS
SELECT * REPLACE ($run_id AS run_id)
FROM incoming
QUALIFY row_number() OVER (PARTITION BY source ORDER BY read_at DESC, read_to DESC NULLS LAST) = 1;

CREATE OR REPLACE TEMP TABLE changed_sources AS
SELECT count(*) AS n FROM (
    SELECT * EXCLUDE (read_at, run_id) FROM read_sources
    EXCEPT
    SELECT * EXCLUDE (read_at, run_id) FROM sources
);

INSERT OR REPLACE INTO sources BY NAME SELECT * FROM read_sources;

SELECT n FROM changed_sources
