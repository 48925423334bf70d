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
# a label's colon: none before it in English, a no-break space in French
report-colon = :
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
report-money-unit = { $currency }/year
report-changes-hours = { $hours } more hours a week saved
report-changes-badges = { $count } { $count ->
    [one] badge earned
   *[other] badges earned
}
report-changes-streak = { $count } { $count ->
    [one] day
   *[other] days
} of activity in a row

## Errors, by code (the original, technical message stays in extensions.detail)
## PERSISTED_QUERY_* have no message, on purpose: Apollo clients match their words.
error-ANALYSIS_NOT_FOUND = This analysis cannot be found.
error-OPPORTUNITY_NOT_FOUND = This opportunity cannot be found in the analysis.
error-INVALID_STATUS_TRANSITION = This status change is not allowed.
error-INVALID_INPUT = The request is invalid; the technical detail comes with it.
error-UNAUTHENTICATED = Sign in first: a valid token is required.
error-FORBIDDEN = You do not have access to this.
error-RATE_LIMITED = Too many requests: try again in a few seconds.
error-SERVICE_UNAVAILABLE = The service is briefly unavailable: try again soon.
error-SUBSCRIBER_LAGGED = Updates came too fast for this connection: subscribe again.
error-INTERNAL = Internal error; quote the request id when reporting it.

## Pages of the email links
page-invalid-title = Invalid link
page-error-title = Error
page-error-body = Please try again later.
page-unsubscribe-invalid = This unsubscribe link is invalid or was altered.
page-unsubscribe-title = Unsubscribe
page-unsubscribe-question = Stop receiving the email reports?
page-unsubscribed-title = Unsubscribed
page-unsubscribed-body = You will not receive these reports any more.
page-confirm-invalid = This confirmation link is invalid or was altered.
page-confirm-title = Confirm
page-confirm-question = Receive the progress reports at this address?
page-confirmed-title = Confirmed
page-confirmed-body = The reports will come to this address.
page-link-expired-title = Link expired
page-link-expired-body = This report link has expired. Open the report again from the dashboard to get a fresh link.
page-link-altered-body = This report link is invalid or was altered: it only opens the report it was made for.

## Confirmation email of a subscription ($frequency: weekly or monthly)
confirm-subject = Confirm your progress reports
confirm-body = Someone asked for { $frequency ->
    [weekly] weekly
   *[monthly] monthly
} progress reports to be sent to this address.

    To receive them, confirm here: { $url }

    If it was not you, ignore this message: nothing else will be sent.

# A condition of a badge's rule: its fact, then where it stands against the target
condition-field-opportunities_total = Opportunities
condition-field-opportunities_started = Opportunities started
condition-field-opportunities_in_progress = Opportunities in progress
condition-field-opportunities_implemented = Opportunities implemented
condition-field-opportunities_completed = Opportunities implemented
condition-field-hours_saved_weekly = Hours saved per week
condition-field-hours_saved_annual = Hours saved per year
condition-field-first_implementation_days = Days to the first implementation
condition-field-consecutive_active_days = Days active in a row
condition-value = { $op ->
    [gte] { $current } of { $target }
    [gt] { $current } (more than { $target })
    [lte] { $current } (at most { $target })
    [lt] { $current } (under { $target })
    [eq] { $current } (exactly { $target })
   *[ne] { $current } (anything but { $target })
}
condition-none-yet = none yet ({ $op ->
    [lte] at most { $target }
    [lt] under { $target }
   *[other] { $target }
})
condition-no-target = no opportunity to count yet
