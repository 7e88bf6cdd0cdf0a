"""Every table and view of the ``raw`` schema, in one module: the typed copies of landed
inputs, each row with its lineage, and the state the pipeline keeps there.

One constant per source; :data:`SCHEMA` lists them all. The build's fingerprint
(:func:`warehouse.build.project_fingerprint`) hashes this file whole, so a change to any raw
table or view makes the next build a full one. Each statement is idempotent (``if not
exists``, ``add column if not exists`` for columns added after a release): a writer runs
its source's DDL before it writes.
"""

from __future__ import annotations

# report files from units (ingest/inbox.py), and which submission counts
UNIT_FILES = """
create schema if not exists raw;

create table if not exists raw.unit_report_files (
    file_sha256       varchar primary key,
    source_file_name  varchar not null,
    landed_path       varchar not null,
    file_format       varchar not null,
    unit_code         varchar not null,
    period            varchar not null,
    reporter          varchar,
    sent_on           date,
    row_count         integer not null,
    load_id           varchar not null,
    loaded_at         timestamptz not null
);

create table if not exists raw.unit_report_values (
    file_sha256       varchar not null,
    source_row        integer not null,
    source_file_name  varchar not null,
    unit_code         varchar not null,
    period            varchar not null,
    sent_on           date,
    indicator_code    varchar not null,
    numerator         double precision,
    denominator       double precision,
    reported_value    double precision,
    note              varchar,
    load_id           varchar not null,
    primary key (file_sha256, source_row)
);

-- one row per quarantine folder (a rejected file, by its bytes and the name it came under),
-- rebuilt from the folders' errors.json: the quarantine is the truth
create table if not exists raw.unit_report_quarantine (
    quarantine_path   varchar primary key,  -- under the quarantine area: unit_files/<folder>
    file_sha256       varchar not null,
    source_file_name  varchar not null,
    unit_code         varchar,
    period            varchar,
    received_at       timestamptz,
    error_count       integer not null,
    first_error_vi    varchar,
    first_error_en    varchar
);
-- its first form, keyed by the file hash alone (one folder for the same bytes under two
-- names): derived from the quarantine like its successor, so dropped, never migrated
drop table if exists raw.unit_report_rejections;

-- added after the first release: older warehouses get them here
alter table raw.unit_report_files add column if not exists received_at timestamptz;
alter table raw.unit_report_files add column if not exists sheet varchar;
alter table raw.unit_report_values add column if not exists received_at timestamptz;
alter table raw.unit_report_values add column if not exists sheet varchar;

-- which submission counts was a view here until it moved into dbt (macro
-- unit_report_submissions): older warehouses drop it
drop view if exists raw.unit_report_submissions;
"""

# index 766 from the public service portal (ingest/sources/portal_766.py)
PORTAL_766 = """
create schema if not exists raw;
create table if not exists raw.portal_766_scores (
    file_sha256 varchar not null, period_kind varchar not null, period varchar not null,
    department_code varchar not null, department_name varchar not null,
    province_code varchar, total_score double precision, score_delta double precision,
    ckmb double precision, tdgq double precision, clgq double precision,
    tttt double precision, mdhl double precision, mdsh double precision,
    load_id varchar not null, loaded_at timestamptz not null,
    primary key (file_sha256, department_code)
);
alter table raw.portal_766_scores add column if not exists api varchar;
alter table raw.portal_766_scores add column if not exists unit_kind varchar;
alter table raw.portal_766_scores add column if not exists agency_id varchar;
alter table raw.portal_766_scores add column if not exists national_rank integer;
alter table raw.portal_766_scores add column if not exists request_key varchar;
alter table raw.portal_766_scores add column if not exists fetched_at timestamptz;
create table if not exists raw.portal_766_national (
    file_sha256 varchar not null, request_key varchar not null,
    period_kind varchar not null, period varchar not null,
    measure varchar not null, category varchar not null, month varchar,
    value double precision, percent double precision,
    load_id varchar not null, loaded_at timestamptz not null,
    fetched_at timestamptz
);
"""

# DTI rankings per province and year, as exported (ingest/sources/dti.py)
DTI = """
create schema if not exists raw;
create table if not exists raw.dti_scores (
    file_sha256 varchar not null, source_row integer not null,
    province_name varchar not null, province_code varchar not null, year integer not null,
    dti_total double precision, digital_government double precision,
    digital_economy double precision, digital_society double precision,
    digital_infrastructure double precision,
    source_file_name varchar not null, loaded_at timestamptz not null,
    primary key (file_sha256, source_row)
);
"""

# online-service provision per province, as exported (ingest/sources/provision.py)
PROVISION = """
create schema if not exists raw;
create table if not exists raw.portal_provision (
    file_sha256 varchar not null, source_row integer not null, period varchar not null,
    province_name varchar not null, province_code varchar not null,
    procedures bigint, eligible_full_online bigint, offered_full_online bigint,
    offered_partly_online bigint, not_online bigint,
    source_file_name varchar not null, loaded_at timestamptz not null,
    primary key (file_sha256, source_row)
);
"""

# the administrative units, both schemes, and the crosswalks (ingest/sources/admin_units.py)
ADMIN_UNITS = """
create schema if not exists raw;
create table if not exists raw.reference_loads (
    source varchar primary key, version varchar not null, loaded_at timestamptz not null
);
create table if not exists raw.admin_units_legacy (
    province_code varchar not null, province_name varchar not null,
    district_code varchar not null, district_name varchar not null, district_type varchar,
    commune_code varchar, commune_name varchar, commune_type varchar,
    source_version varchar not null
);
create table if not exists raw.admin_units_2025 (
    province_code varchar not null, province_name varchar not null,
    commune_code varchar not null, commune_name varchar not null, commune_type varchar,
    source_version varchar not null
);
create table if not exists raw.admin_unit_crosswalk (
    old_province_code varchar not null, old_district_code varchar not null,
    old_commune_code varchar, new_province_code varchar not null,
    new_commune_code varchar not null, is_divided boolean not null,
    is_default_new boolean not null, source_version varchar not null
);
create table if not exists raw.admin_province_crosswalk (
    old_province_code varchar not null, new_province_code varchar not null,
    source_version varchar not null
);
"""

# due days, exceptions granted and files loaded through them (warehouse/calendar.py)
CALENDAR = """
create schema if not exists raw;

-- every period's due day and last accepted day, per served province and unit group
-- (rebuilt from seeds/reporting_calendar.csv at every ingest)
create table if not exists raw.reporting_deadlines (
    province_code     varchar not null,
    unit_group        varchar not null,
    period            varchar not null,
    due_on            date not null,
    accepted_until    date not null,
    primary key (province_code, unit_group, period)
);

-- exceptions to a lock granted with `chiso calendar grant` (the seed holds the others)
create table if not exists raw.reporting_exceptions (
    exception_id      varchar primary key,
    unit_code         varchar not null,
    period            varchar not null,
    valid_until       date not null,
    granted_by        varchar not null,
    granted_on        date not null,
    reason            varchar not null,
    granted_at        timestamptz not null
);

-- every file loaded through an exception (written in the load's transaction)
create table if not exists raw.reporting_exception_uses (
    file_sha256       varchar primary key,
    exception_id      varchar not null,
    unit_code         varchar not null,
    period            varchar not null,
    received_at       timestamptz,
    recorded_at       timestamptz not null
);
"""

# chiso's own monthly snapshots read back (ingest/sources/snapshots.py)
SNAPSHOTS = """
create schema if not exists raw;
create table if not exists raw.snapshot_loads (
    period varchar primary key, file_sha256 varchar not null
);
create table if not exists raw.snapshot_target_progress (
    snapshot_period varchar not null,
    target_id varchar, unit_code varchar, unit_group varchar, indicator_code varchar,
    target_value double precision, deadline_on date, latest_period varchar,
    latest_value double precision, pace_ratio double precision,
    projected_value_at_deadline double precision, status varchar,
    file_sha256 varchar,
    loaded_at timestamptz
);
-- a warehouse from before these columns (its table was copied whole from the Parquet)
alter table raw.snapshot_target_progress add column if not exists file_sha256 varchar;
alter table raw.snapshot_target_progress add column if not exists loaded_at timestamptz;
"""

# the reporting units (ingest/registry.py)
REGISTRY = """
create schema if not exists raw;
create table if not exists raw.unit_registry (
    unit_code varchar primary key, unit_name_vi varchar not null, unit_group varchar not null,
    parent_unit_code varchar, province_code varchar not null,
    served_province_code varchar not null, scheme varchar, admin_unit_id varchar,
    valid_from_on date, valid_to_on date, successor_unit_code varchar,
    source varchar not null, note varchar
);
create table if not exists raw.unit_list_members (
    unit_code varchar primary key, list_code varchar not null, unit_name_vi varchar not null,
    unit_group varchar not null, province_code varchar not null,
    parent_unit_code varchar, valid_from_on date, valid_to_on date,
    first_import_id varchar not null, last_import_id varchar not null
);
"""

# the imported lists of schools and health facilities (ingest/unit_lists.py)
UNIT_LISTS = """
create schema if not exists raw;
create table if not exists raw.unit_list_imports (
    import_id varchar primary key, province_code varchar not null, unit_group varchar not null,
    file_name varchar not null, file_sha256 varchar not null, imported_at timestamptz not null,
    effective_on date not null, row_count integer not null, added integer not null,
    closed integer not null, renamed integer not null, changed integer not null,
    reopened integer not null
);
create table if not exists raw.unit_list_changes (
    import_id varchar not null, unit_code varchar not null, change varchar not null,
    old_value varchar, new_value varchar
);
"""

# the reminders sent (chiso/reminders.py)
REMINDERS = """
create schema if not exists raw;
create table if not exists raw.reminders_sent (
    reminder_id       varchar primary key,
    unit_code         varchar not null,
    period            varchar not null,
    stage             varchar not null,  -- before_due or overdue
    sent_at           timestamptz not null,
    delivered_to      varchar not null   -- webhook, or file (no webhook configured)
);
"""

# the project the last complete build was made with (warehouse/build.py)
BUILD_STATE = """
create schema if not exists raw;
create table if not exists raw.build_state (
    project_fingerprint varchar not null,
    built_at timestamptz not null
);
"""

SCHEMA: dict[str, str] = {
    "unit_files": UNIT_FILES,
    "portal_766": PORTAL_766,
    "dti_scores": DTI,
    "portal_provision": PROVISION,
    "admin_units": ADMIN_UNITS,
    "calendar": CALENDAR,
    "snapshots": SNAPSHOTS,
    "registry": REGISTRY,
    "unit_lists": UNIT_LISTS,
    "reminders": REMINDERS,
    "build_state": BUILD_STATE,
}
