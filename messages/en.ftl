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

## Reports (emails, HTML and PDF document): labels without arguments, read by the templates
## as t.<name> (dashes in the name become underscores)
report-weekly-title = Weekly report
report-monthly-title = Monthly report
report-report-title = Progress report
report-greeting = Hello,
report-intro = Here is your progress report for
report-progress = Your progress
report-time-saved = Time saved
report-per-week = h/week
report-per-year = h/year
report-potential = Total potential
report-money-saved = Money saved
report-per-year-money = /year
report-new-badges = New badges
report-no-new-badges = No new badge since the last report.
report-badges = Badges
report-earned-on = earned on
report-next-steps = Recommended next steps
report-opportunities = Opportunities
report-opportunity = Opportunity
report-status = Status
report-hours-week = h/week
report-complexity = Complexity
report-metrics = Metrics
report-metric = Metric
report-chart-title = Hours per week, by opportunity
report-implemented-col = Achieved
report-potential-col = Potential
report-summary = Summary
report-generated = Generated on
report-cta = See my dashboard
report-encouragement = Keep it up! Every small improvement counts.
report-why-weekly = You receive this email because you subscribed to weekly reports.
report-why-monthly = You receive this email because you subscribed to monthly reports.
report-unsubscribe = Unsubscribe
report-status-NOT_STARTED = Not started
report-status-IN_PROGRESS = In progress
report-status-IMPLEMENTED = Implemented
report-changes-title = Since the last report
report-weeks-title = Hours saved per week, week by week

## Report sentences, with their numbers
report-implemented = { $implemented } { $implemented ->
    [one] opportunity
   *[other] opportunities
} implemented out of { $total }
report-changes-moved = { $count } { $count ->
    [one] opportunity changed
   *[other] opportunities changed
} status
report-changes-hours = { $hours } more hours a week saved
report-changes-badges = { $count } { $count ->
    [one] badge earned
   *[other] badges earned
}
report-changes-streak = { $count } { $count ->
    [one] day
   *[other] days
} of activity in a row
