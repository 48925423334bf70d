# Sentences the server composes, in English. Numbers come formatted ($hours, $days...), and a raw
# $count beside them chooses the plural.

## Recommendation reasons
reason-quick-high = Quick win with high impact: low complexity ({ $complexity }/10) and saves { $hours } { $count ->
    [one] hour
   *[other] hours
} per week
reason-quick = Quick win: low complexity ({ $complexity }/10), saves { $hours } { $count ->
    [one] hour
   *[other] hours
} per week
reason-high = High impact: saves { $hours } { $count ->
    [one] hour
   *[other] hours
} per week at complexity { $complexity }/10
reason-steady = Steady gain: saves { $hours } { $count ->
    [one] hour
   *[other] hours
} per week at complexity { $complexity }/10

## Next milestones of a locked badge
milestone-record = Record an analysis with at least one opportunity
milestone-window-passed = The { $target }-day window for a first implementation has passed
milestone-within = Implement an opportunity within { $count } { $count ->
    [one] day
   *[other] days
}
milestone-after = Make the first implementation { $target } days after the analysis
milestone-start = Start { $count } more { $count ->
    [one] opportunity
   *[other] opportunities
}
milestone-in-progress = Put { $count } more { $count ->
    [one] opportunity
   *[other] opportunities
} in progress
milestone-implement = Implement { $count } more { $count ->
    [one] opportunity
   *[other] opportunities
}
milestone-hours-weekly = Save { $hours } more hours per week
milestone-hours-annual = Save { $count } more { $count ->
    [one] hour
   *[other] hours
} per year
milestone-days = Make progress on { $count } more { $count ->
    [one] day
   *[other] days
} in a row
milestone-total = Reach { $count } { $count ->
    [one] opportunity
   *[other] opportunities
} in the analysis
