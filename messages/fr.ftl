# Les phrases que compose le serveur, en français. Les nombres arrivent formatés ($hours,
# $days...) et un $count brut à côté choisit le pluriel (en français, 0 et 1 sont au singulier).

## Raisons des recommandations
reason-quick-high = Gain rapide à fort impact : faible complexité ({ $complexity }/10) et { $hours } { $count ->
    [one] heure économisée
   *[other] heures économisées
} par semaine
reason-quick = Gain rapide : faible complexité ({ $complexity }/10), { $hours } { $count ->
    [one] heure économisée
   *[other] heures économisées
} par semaine
reason-high = Fort impact : { $hours } { $count ->
    [one] heure économisée
   *[other] heures économisées
} par semaine, complexité { $complexity }/10
reason-steady = Gain régulier : { $hours } { $count ->
    [one] heure économisée
   *[other] heures économisées
} par semaine, complexité { $complexity }/10

## Prochaine étape d'un badge verrouillé
milestone-record = Enregistrez une analyse avec au moins une opportunité
milestone-window-passed = Le délai de { $target } jours pour une première implémentation est passé
milestone-within = Implémentez une opportunité d'ici { $count } { $count ->
    [one] jour
   *[other] jours
}
milestone-after = Faites la première implémentation { $target } jours après l'analyse
milestone-start = Démarrez encore { $count } { $count ->
    [one] opportunité
   *[other] opportunités
}
milestone-in-progress = Mettez encore { $count } { $count ->
    [one] opportunité
   *[other] opportunités
} en cours
milestone-implement = Implémentez encore { $count } { $count ->
    [one] opportunité
   *[other] opportunités
}
milestone-hours-weekly = Économisez encore { $hours } heures par semaine
milestone-hours-annual = Économisez encore { $count } { $count ->
    [one] heure
   *[other] heures
} par an
milestone-days = Progressez encore { $count } { $count ->
    [one] jour
   *[other] jours
} d'affilée
milestone-total = Atteignez { $count } { $count ->
    [one] opportunité
   *[other] opportunités
} dans l'analyse
