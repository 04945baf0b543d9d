-- Device identity history: every distinct identity seen at a PCI address, with when it was first and
-- last seen. Drift detection compares the latest identity at an address with the previous one.
-- Times are RFC 3339 UTC text with milliseconds (e.g. 2025-01-31T12:00:00.000Z).
CREATE TABLE device_identities (
    id                  INTEGER PRIMARY KEY,
    address             TEXT    NOT NULL,
    vendor_id           INTEGER NOT NULL CHECK (vendor_id BETWEEN 0 AND 65535),
    device_id           INTEGER NOT NULL CHECK (device_id BETWEEN 0 AND 65535),
    subsystem_vendor_id INTEGER          CHECK (subsystem_vendor_id BETWEEN 0 AND 65535),
    subsystem_device_id INTEGER          CHECK (subsystem_device_id BETWEEN 0 AND 65535),
    serial_number       TEXT             CHECK (serial_number <> ''),
    first_seen          TEXT    NOT NULL,
    last_seen           TEXT    NOT NULL,
    CHECK (first_seen <= last_seen)
);

-- One row per distinct identity at an address. NULLs are distinct in a plain UNIQUE index, so the
-- optional columns are folded with COALESCE (-1 and '' never occur as stored values: the CHECKs
-- above keep ids in 0...65535 and an empty serial is stored as NULL).
CREATE UNIQUE INDEX device_identities_identity ON device_identities (
    address,
    vendor_id,
    device_id,
    COALESCE(subsystem_vendor_id, -1),
    COALESCE(subsystem_device_id, -1),
    COALESCE(serial_number, '')
);

-- The latest identity per address: history and drift queries walk this index.
CREATE INDEX device_identities_address_last_seen ON device_identities (address, last_seen, id);
