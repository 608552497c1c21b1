"""Alerts to the operations team through Airflow's notifiers, configured in ``include/config/alerts.yaml``.

``settings`` reads the file, ``notify`` builds and sends the alerts (the notifier every DAG
carries), ``webhook`` is the chat-tool notifier, ``quarantine`` the check after each run's report.
"""
