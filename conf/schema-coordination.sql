-- mod_weblab coordination database (SQL scheduler): user sessions, lab
-- resources and reservations. Shared by every httpd child of every core, so
-- nothing that matters lives in one process. Portable SQL.

CREATE TABLE IF NOT EXISTS WebSession (
    id VARCHAR(32) PRIMARY KEY,
    user_id INTEGER NOT NULL,
    login VARCHAR(32) NOT NULL,
    full_name VARCHAR(200) NOT NULL,
    role VARCHAR(20) NOT NULL,
    created REAL NOT NULL,
    latest_access REAL NOT NULL,
    reservation_id VARCHAR(36)
);
-- A resource instance is one physical lab (a slot). working=0: broken.
CREATE TABLE IF NOT EXISTS ResourceInstance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_type VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    working INTEGER NOT NULL DEFAULT 1,
    error TEXT,
    next_check REAL,
    UNIQUE (resource_type, name)
);
-- An experiment instance serves one experiment type on one resource instance.
CREATE TABLE IF NOT EXISTS LabInstance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exp_name VARCHAR(255) NOT NULL,
    cat_name VARCHAR(255) NOT NULL,
    instance_name VARCHAR(255) NOT NULL,
    resource_instance_id INTEGER NOT NULL REFERENCES ResourceInstance(id),
    transport VARCHAR(20) NOT NULL,
    url VARCHAR(600) NOT NULL,
    api VARCHAR(20) NOT NULL DEFAULT '',
    auth_user VARCHAR(255) NOT NULL DEFAULT '',
    auth_password VARCHAR(255) NOT NULL DEFAULT '',
    manages_polling INTEGER NOT NULL DEFAULT 0,
    discovered_api VARCHAR(20),
    -- no longer configured: never assigned again, deleted once nobody holds it
    retired INTEGER NOT NULL DEFAULT 0,
    UNIQUE (exp_name, cat_name, instance_name)
);
-- One row per reservation for its whole life. slot_id is UNIQUE: whatever the
-- concurrency, one resource instance never has two holders.
CREATE TABLE IF NOT EXISTS Reservation (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id VARCHAR(36) NOT NULL UNIQUE,
    session_id VARCHAR(32) NOT NULL,
    user_id INTEGER NOT NULL,
    login VARCHAR(32) NOT NULL,
    full_name VARCHAR(200) NOT NULL,
    exp_name VARCHAR(255) NOT NULL,
    cat_name VARCHAR(255) NOT NULL,
    resource_type VARCHAR(255) NOT NULL,
    priority INTEGER NOT NULL,
    time_allowed REAL NOT NULL,
    init_in_accounting INTEGER NOT NULL,
    permanent_id VARCHAR(255) NOT NULL DEFAULT '',
    state VARCHAR(16) NOT NULL,
    created REAL NOT NULL,
    latest_poll REAL NOT NULL,
    client_initial_data TEXT NOT NULL,
    request_info TEXT NOT NULL,
    route VARCHAR(64) NOT NULL,
    origin VARCHAR(255) NOT NULL DEFAULT '',
    slot_id INTEGER UNIQUE REFERENCES ResourceInstance(id),
    lab_instance_id INTEGER REFERENCES LabInstance(id),
    claim_until REAL,
    timestamp_before REAL,
    timestamp_after REAL,
    lab_session_id VARCHAR(64),
    api VARCHAR(20),
    initial_configuration TEXT,
    next_should_finish REAL,
    next_dispose REAL,
    finish_reason INTEGER,
    finished INTEGER NOT NULL DEFAULT 0,
    initial_data TEXT,
    end_data TEXT,
    post_expires REAL,
    use_id INTEGER
);
CREATE INDEX IF NOT EXISTS idx_Reservation_queue ON Reservation (state, resource_type, priority, seq);
CREATE INDEX IF NOT EXISTS idx_Reservation_session ON Reservation (session_id);
