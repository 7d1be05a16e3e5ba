#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory
# (/docker-entrypoint-initdb.d). The read models and the key store get a database and a role each:
# the api and the projector connect as nrm_read_models, only the api as nrm_keys, and neither role
# can connect to the other's database. Each role owns its database, so the ledger's own
# `CREATE SCHEMA IF NOT EXISTS` succeeds (PostgreSQL asks for CREATE on the database even when the
# schema exists).
set -eu
: "${NRM_READ_MODEL_DB_PASSWORD:?}"
: "${NRM_KEY_STORE_DB_PASSWORD:?}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v read_models_password="$NRM_READ_MODEL_DB_PASSWORD" \
  -v key_store_password="$NRM_KEY_STORE_DB_PASSWORD" <<'SQL'
CREATE ROLE nrm_read_models LOGIN PASSWORD :'read_models_password';
CREATE ROLE nrm_keys LOGIN PASSWORD :'key_store_password';
CREATE DATABASE nrm_read_models OWNER nrm_read_models;
CREATE DATABASE nrm_keys OWNER nrm_keys;
REVOKE ALL ON DATABASE nrm_read_models FROM PUBLIC;
REVOKE ALL ON DATABASE nrm_keys FROM PUBLIC;
\connect nrm_read_models
CREATE SCHEMA nrm_read_models AUTHORIZATION nrm_read_models;
\connect nrm_keys
CREATE SCHEMA nrm_keys AUTHORIZATION nrm_keys;
SQL
