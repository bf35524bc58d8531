"""Aggregation: entities, entity_daily and cooccurrence over stored plus staged mentions."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.faults import fault_point
from tasks.timing import stage_logger, timed
from tasks.warehouse import Staging, Warehouse, compute_aggregates


@task(name="aggregate-entities", cache_policy=NO_CACHE, timeout_seconds=3_600)
@timed("aggregate")
def aggregate_entities(warehouse: Warehouse, staging: Staging, *, model: str) -> dict:
    """Stage the aggregate tables for the warehouse as it will be after this run."""
    counts = compute_aggregates(warehouse, staging, model=model)
    fault_point("aggregate:staged")
    stage_logger().info("aggregated: %s", counts)
    return counts
