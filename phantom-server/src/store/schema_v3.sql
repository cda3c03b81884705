-- What the tools of a mission returned, fingerprinted (provenance): the
-- values later calls' arguments are traced back to.
CREATE TABLE observations (
    mission_id TEXT NOT NULL REFERENCES missions (id),
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tool       TEXT NOT NULL,
    body       TEXT NOT NULL,
    at         INTEGER NOT NULL
) STRICT;
CREATE INDEX observations_by_mission ON observations (mission_id, seq);
