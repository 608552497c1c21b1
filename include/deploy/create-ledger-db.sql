-- The contentops ledger lives in its own database, never in Airflow's metadata database.
CREATE USER contentops WITH PASSWORD 'contentops';
CREATE DATABASE contentops OWNER contentops;
