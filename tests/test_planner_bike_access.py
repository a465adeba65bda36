

def test_departure_window_keeps_bike_access(planner):
    q, plan = _plan(planner, access=("bike",), window_s=1200.0)
    biked = [it for it in plan.itineraries if it.legs[0].note == PARK_NOTE]
    assert biked
    for it in biked:  # every option of the window leaves within it, the bike leg included
        assert q.when - timedelta(seconds=1) <= it.legs[0].departure
        assert it.legs[0].departure <= q.when + timedelta(seconds=1200 + 1)
        assert it.legs[0].arrival == it.legs[1].departure
