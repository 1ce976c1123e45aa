"""Valid bodies for the API tests to send (and vary)."""

from __future__ import annotations

PASSWORD = "correct horse battery staple"  # the conftest users' password

REQUEST = {
    "reference": "ALPHA-2027-001",
    "methodology": "peer-review",
    "window_start": "2027-04-01",
    "window_end": "2027-04-30",
    "peers": 2,
    "high_profile": False,
    "agencies_involved": ["police"],
    "required_skills": ["lead-reviewer", "rca"],
    "notified_on": "2027-03-01",
}

REVIEWER = {
    "name": "Priya Shah",
    "email": "priya.shah@example.org",
    "agency": "health",
    "job_role": "Designated nurse",
    "skills": ["peer-review", "rca"],
    "capacity": 2,
    "unavailable": [{"starts_on": "2027-05-01", "ends_on": "2027-05-14"}],
}
