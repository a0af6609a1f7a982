import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.scaling.emergency import end_emergency, request_emergency_capacity
from apps.scaling.models import Decision, PoolState


@pytest.mark.django_db(transaction=True)
def test_emergency_jumps_to_emergency_capacity_at_once(web_policy, worker_policy):
    result = request_emergency_capacity("venue network down at St Mary's")
    json.dumps(result)  # callers keep it in their incident timeline (a JSON field)
    by_pool = {d["pool"]: d for d in result["decisions"]}
    assert by_pool["web"]["rule"] == "emergency"
    assert by_pool["web"]["desired_units"] == 15  # configured emergency units
    assert by_pool["worker"]["desired_units"] == 20  # blank: the max, 10 x baseline
    # No Celery worker runs in this test: the queued actuation is applied here instead.
    from apps.scaling.services import actuate

    for d in Decision.objects.filter(pk__in=[d["id"] for d in result["decisions"]]):
        if d.outcome == Decision.Outcome.PENDING:
            actuate(d)
    assert PoolState.objects.get(pool="web").current_units == 15
    assert Decision.objects.get(pk=by_pool["web"]["id"]).outcome == "applied"


@pytest.mark.django_db
def test_emergency_needs_a_reason_and_a_future_end(web_policy):
    with pytest.raises(ValueError, match="reason"):
        request_emergency_capacity("  ")
    with pytest.raises(ValueError, match="until"):
        request_emergency_capacity("x", until=timezone.now() - timedelta(minutes=1))


@pytest.mark.django_db
def test_ending_the_emergency_lets_normal_rules_decide(web_policy):
    request_emergency_capacity("storm")
    assert end_emergency() == 1
    from apps.scaling.services import decide_pool

    decision = decide_pool(web_policy, load=100)
    assert decision.rule != "emergency"
