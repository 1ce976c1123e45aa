"""Organisations: reviewers' employers, the partnerships each serves, and the organisations
involved in a request. Every existing reviewer is given a default organisation, one per
partnership and agency, named "<Partnership> <agency label>", so nothing else changes.

Revision ID: 0006_organisations
Revises: 0005_email_normal
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from peermatch.vocabulary import load as load_vocabulary

revision = "0006_organisations"
down_revision = "0005_email_normal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_organisation_region_id_region")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("region_id", "name", name=op.f("uq_organisation_region_id_name")),
    )
    with op.batch_alter_table("organisation") as batch:
        batch.create_index(batch.f("ix_organisation_region_id"), ["region_id"], unique=False)
    op.create_table(
        "organisationpartnership",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisationpartnership_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_organisationpartnership_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "partnership_id", name=op.f("pk_organisationpartnership")
        ),
    )
    with op.batch_alter_table("reviewer") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_reviewer_organisation_id"), ["organisation_id"])
        batch.create_foreign_key(
            batch.f("fk_reviewer_organisation_id_organisation"),
            "organisation",
            ["organisation_id"],
            ["id"],
        )
    with op.batch_alter_table("reviewrequest") as batch:
        batch.add_column(sa.Column("organisations_involved", sa.JSON(), nullable=True))
    _default_organisations()


def _default_organisations() -> None:
    """One organisation per partnership and agency that has reviewers; they are assigned to it."""
    conn = op.get_bind()
    vocab = load_vocabulary()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.execute(sa.text("UPDATE reviewrequest SET organisations_involved = '[]'"))
    pairs = conn.execute(
        sa.text(
            "SELECT DISTINCT p.id, p.region_id, p.name, p.code, r.agency FROM reviewer r "
            "JOIN partnership p ON p.id = r.partnership_id ORDER BY p.id, r.agency"
        )
    ).all()
    taken: set[tuple[int, str]] = set()
    for partnership_id, region_id, name, code, agency in pairs:
        org_name = f"{name} {vocab.agency_label(agency)}"[:120]
        if (region_id, org_name) in taken:  # two partnerships of one region share a name
            org_name = f"{name} ({code}) {vocab.agency_label(agency)}"[:120]
        taken.add((region_id, org_name))
        org_id = conn.execute(
            sa.text(
                "INSERT INTO organisation (region_id, name, agency, created_at) "
                "VALUES (:region_id, :name, :agency, :now) RETURNING id"
            ),
            {"region_id": region_id, "name": org_name, "agency": agency, "now": now},
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO organisationpartnership (organisation_id, partnership_id) "
                "VALUES (:o, :p)"
            ),
            {"o": org_id, "p": partnership_id},
        )
        conn.execute(
            sa.text(
                "UPDATE reviewer SET organisation_id = :o WHERE partnership_id = :p AND agency = :a"
            ),
            {"o": org_id, "p": partnership_id, "a": agency},
        )


def downgrade() -> None:
    with op.batch_alter_table("reviewrequest") as batch:
        batch.drop_column("organisations_involved")
    with op.batch_alter_table("reviewer") as batch:
        batch.drop_constraint(
            batch.f("fk_reviewer_organisation_id_organisation"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_reviewer_organisation_id"))
        batch.drop_column("organisation_id")
    op.drop_table("organisationpartnership")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_index(batch.f("ix_organisation_region_id"))
    op.drop_table("organisation")
