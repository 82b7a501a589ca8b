-- mod_weblab data database (users, permissions, experiments, uses).
-- Table and column names follow WebLab-Deusto 5 (spec section 5.1) so that a
-- user table can be imported; "Group" and "User" are quoted everywhere.
-- Portable SQL: SQLite now, MySQL/MariaDB through the same statements.

CREATE TABLE IF NOT EXISTS Role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(20) NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS "User" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login VARCHAR(32) NOT NULL UNIQUE,
    full_name VARCHAR(200) NOT NULL,
    email VARCHAR(255) NOT NULL DEFAULT '',
    avatar VARCHAR(255),
    role_id INTEGER REFERENCES Role(id),
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS "Group" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(250) NOT NULL,
    parent_id INTEGER REFERENCES "Group"(id),
    UNIQUE (parent_id, name)
);
CREATE TABLE IF NOT EXISTS UserIsMemberOf (
    user_id INTEGER NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES "Group"(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE TABLE IF NOT EXISTS AuthType (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(200) NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS Auth (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    auth_type_id INTEGER NOT NULL REFERENCES AuthType(id),
    name VARCHAR(200) NOT NULL,
    priority INTEGER NOT NULL UNIQUE,
    configuration TEXT,
    UNIQUE (auth_type_id, name)
);
CREATE TABLE IF NOT EXISTS UserAuth (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
    auth_id INTEGER NOT NULL REFERENCES Auth(id),
    configuration TEXT
);
CREATE TABLE IF NOT EXISTS ExperimentCategory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS Experiment (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL,
    category_id INTEGER NOT NULL REFERENCES ExperimentCategory(id),
    start_date VARCHAR(32) NOT NULL,
    end_date VARCHAR(32) NOT NULL,
    client VARCHAR(255) NOT NULL DEFAULT 'js',
    UNIQUE (name, category_id)
);
CREATE TABLE IF NOT EXISTS ExperimentClientParameter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER NOT NULL REFERENCES Experiment(id) ON DELETE CASCADE,
    parameter_name VARCHAR(255) NOT NULL,
    parameter_type VARCHAR(15) NOT NULL,
    value VARCHAR(600) NOT NULL,
    UNIQUE (experiment_id, parameter_name)
);
-- One row per lab instance: where the lab is and how to talk to it. Our own
-- table (the original kept this in Python config files).
CREATE TABLE IF NOT EXISTS ExperimentInstance (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER NOT NULL REFERENCES Experiment(id) ON DELETE CASCADE,
    instance_name VARCHAR(255) NOT NULL,
    resource_type VARCHAR(255) NOT NULL,
    resource_instance VARCHAR(255) NOT NULL,
    transport VARCHAR(20) NOT NULL DEFAULT 'xmlrpc',
    url VARCHAR(600) NOT NULL,
    api VARCHAR(20) NOT NULL DEFAULT '',
    auth_user VARCHAR(255) NOT NULL DEFAULT '',
    auth_password VARCHAR(255) NOT NULL DEFAULT '',
    manages_polling INTEGER NOT NULL DEFAULT 0,
    UNIQUE (experiment_id, instance_name)
);
-- Health checkers of a lab instance besides test_me (spec 3.6):
-- checker_type 'host' (target HOST:PORT), 'webcam' or 'web' (target a
-- URL); timeout in seconds per try. Added after the first release:
-- weblab_schema_upgrade_data creates it in older databases.
CREATE TABLE IF NOT EXISTS ExperimentInstanceChecker (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id INTEGER NOT NULL REFERENCES ExperimentInstance(id) ON DELETE CASCADE,
    checker_type VARCHAR(20) NOT NULL,
    target VARCHAR(600) NOT NULL,
    timeout REAL NOT NULL DEFAULT 10
);
CREATE INDEX IF NOT EXISTS idx_ExperimentInstanceChecker_instance ON ExperimentInstanceChecker (instance_id);
CREATE TABLE IF NOT EXISTS UserPermission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES "User"(id) ON DELETE CASCADE,
    permission_type VARCHAR(255) NOT NULL,
    permanent_id VARCHAR(255) NOT NULL UNIQUE,
    date VARCHAR(32) NOT NULL,
    comments TEXT
);
CREATE TABLE IF NOT EXISTS GroupPermission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL REFERENCES "Group"(id) ON DELETE CASCADE,
    permission_type VARCHAR(255) NOT NULL,
    permanent_id VARCHAR(255) NOT NULL UNIQUE,
    date VARCHAR(32) NOT NULL,
    comments TEXT
);
CREATE TABLE IF NOT EXISTS RolePermission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id INTEGER NOT NULL REFERENCES Role(id) ON DELETE CASCADE,
    permission_type VARCHAR(255) NOT NULL,
    permanent_id VARCHAR(255) NOT NULL UNIQUE,
    date VARCHAR(32) NOT NULL,
    comments TEXT
);
CREATE TABLE IF NOT EXISTS UserPermissionParameter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permission_id INTEGER NOT NULL REFERENCES UserPermission(id) ON DELETE CASCADE,
    permission_type_parameter VARCHAR(255) NOT NULL,
    value TEXT,
    UNIQUE (permission_id, permission_type_parameter)
);
CREATE TABLE IF NOT EXISTS GroupPermissionParameter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permission_id INTEGER NOT NULL REFERENCES GroupPermission(id) ON DELETE CASCADE,
    permission_type_parameter VARCHAR(255) NOT NULL,
    value TEXT,
    UNIQUE (permission_id, permission_type_parameter)
);
CREATE TABLE IF NOT EXISTS RolePermissionParameter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permission_id INTEGER NOT NULL REFERENCES RolePermission(id) ON DELETE CASCADE,
    permission_type_parameter VARCHAR(255) NOT NULL,
    value TEXT,
    UNIQUE (permission_id, permission_type_parameter)
);
-- Uses: dates are epoch seconds as REAL (start_date) plus the original's
-- split columns that reports group by.
CREATE TABLE IF NOT EXISTS UserUsedExperiment (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES "User"(id),
    experiment_id INTEGER NOT NULL REFERENCES Experiment(id),
    start_date VARCHAR(32) NOT NULL,
    start_date_micro INTEGER NOT NULL DEFAULT 0,
    end_date VARCHAR(32),
    end_date_micro INTEGER,
    finish_reason INTEGER,
    session_time_seconds REAL,
    permission_permanent_id VARCHAR(255),
    origin VARCHAR(255) NOT NULL DEFAULT '',
    coord_address VARCHAR(600) NOT NULL DEFAULT '',
    reservation_id VARCHAR(50) NOT NULL UNIQUE,
    hostname VARCHAR(255),
    request_info TEXT
);
-- Covers the COUNT and MAX(start_date) per experiment of the uses of one
-- user (list_experiments) without reading the rows: some accounts have
-- thousands of uses.
CREATE INDEX IF NOT EXISTS idx_UserUsedExperiment_user_uses ON UserUsedExperiment (user_id, experiment_id, start_date);
CREATE TABLE IF NOT EXISTS UserCommand (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_use_id INTEGER NOT NULL REFERENCES UserUsedExperiment(id) ON DELETE CASCADE,
    command TEXT,
    response TEXT,
    timestamp_before REAL NOT NULL,
    timestamp_after REAL
);
CREATE INDEX IF NOT EXISTS idx_UserCommand_use ON UserCommand (experiment_use_id);
CREATE TABLE IF NOT EXISTS UserFile (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_use_id INTEGER NOT NULL REFERENCES UserUsedExperiment(id) ON DELETE CASCADE,
    file_sent TEXT,
    file_hash VARCHAR(255),
    file_info TEXT,
    response TEXT,
    timestamp_before REAL NOT NULL,
    timestamp_after REAL
);
CREATE INDEX IF NOT EXISTS idx_UserFile_use ON UserFile (experiment_use_id);
-- Requests of send_async_command / send_async_file (ours, not the
-- original's): 'running' while a core's worker calls the lab, then 'ok' or
-- 'error' until check_async_command_status has reported them once (then
-- deleted). A request still running past its deadline lost its process (a
-- restart): it is reported as an error. Shared by every core. (Databases
-- made before keep an unused AsyncRequest table: it may be dropped.)
CREATE TABLE IF NOT EXISTS AsyncCommandStatus (
    id VARCHAR(32) PRIMARY KEY,
    experiment_use_id INTEGER NOT NULL REFERENCES UserUsedExperiment(id) ON DELETE CASCADE,
    status VARCHAR(10) NOT NULL,
    response TEXT,
    deadline REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_AsyncCommandStatus_use ON AsyncCommandStatus (experiment_use_id);
CREATE INDEX IF NOT EXISTS idx_AsyncCommandStatus_deadline ON AsyncCommandStatus (deadline);
CREATE TABLE IF NOT EXISTS ClientProperties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(50) NOT NULL UNIQUE,
    value TEXT
);
