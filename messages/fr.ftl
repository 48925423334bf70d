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

## Rapports (courriels, document HTML et PDF) : libellés sans argument, lus par les gabarits
## comme t.<nom> (les tirets du nom deviennent des soulignés)
report-weekly-title = Rapport hebdomadaire
report-monthly-title = Rapport mensuel
report-report-title = Rapport d'avancement
report-greeting = Bonjour,
report-intro = Voici votre rapport d'avancement pour
report-progress = Votre progression
report-time-saved = Temps économisé
report-per-week = h/semaine
report-per-year = h/an
report-potential = Potentiel total
# les deux-points d'un libellé : une espace insécable avant, en français
report-colon = {"\u00A0"}:
report-money-saved = Économies réalisées
report-per-year-money = /an
report-new-badges = Nouveaux badges
report-no-new-badges = Pas de nouveau badge depuis le dernier rapport.
report-badges = Badges
report-earned-on = obtenu le
report-next-steps = Prochaines étapes recommandées
report-opportunities = Opportunités
report-opportunity = Opportunité
report-status = Statut
report-hours-week = h/semaine
report-complexity = Complexité
report-metrics = Indicateurs
report-metric = Indicateur
report-chart-title = Heures par semaine, par opportunité
report-implemented-col = Réalisé
report-potential-col = Potentiel
report-summary = Résumé
report-generated = Généré le
report-cta = Voir mon tableau de bord
report-encouragement = Continuez comme ça ! Chaque petite amélioration compte.
report-why-weekly = Vous recevez cet email car vous êtes abonné aux rapports hebdomadaires.
report-why-monthly = Vous recevez cet email car vous êtes abonné aux rapports mensuels.
report-unsubscribe = Se désabonner
report-status-NOT_STARTED = Non commencée
report-status-IN_PROGRESS = En cours
report-status-IMPLEMENTED = Implémentée
report-changes-title = Depuis le dernier rapport
report-weeks-title = Heures économisées par semaine, semaine par semaine

## Phrases des rapports, avec leurs nombres
report-implemented = { $implemented } { $implemented ->
    [one] opportunité implémentée
   *[other] opportunités implémentées
} sur { $total }
report-changes-moved = { $count } { $count ->
    [one] opportunité a changé
   *[other] opportunités ont changé
} de statut
report-money-unit = { $currency }/an
report-changes-hours = { $hours } h/semaine économisées en plus
report-changes-badges = { $count } { $count ->
    [one] badge gagné
   *[other] badges gagnés
}
report-changes-streak = { $count } { $count ->
    [one] jour
   *[other] jours
} d'activité d'affilée

## Erreurs, par code (le message d'origine, technique, reste dans extensions.detail)
## PERSISTED_QUERY_* n'ont pas de message, exprès : les clients Apollo reconnaissent leurs mots.
error-ANALYSIS_NOT_FOUND = Cette analyse est introuvable.
error-OPPORTUNITY_NOT_FOUND = Cette opportunité est introuvable dans l'analyse.
error-INVALID_STATUS_TRANSITION = Ce changement de statut n'est pas permis.
error-INVALID_INPUT = La requête est invalide ; le détail technique l'accompagne.
error-UNAUTHENTICATED = Connectez-vous d'abord : un jeton valide est requis.
error-FORBIDDEN = Vous n'avez pas accès à cette ressource.
error-RATE_LIMITED = Trop de requêtes : réessayez dans quelques secondes.
error-SERVICE_UNAVAILABLE = Le service est momentanément indisponible : réessayez bientôt.
error-SUBSCRIBER_LAGGED = Les mises à jour arrivaient trop vite pour cette connexion : abonnez-vous de nouveau.
error-INTERNAL = Erreur interne ; citez l'identifiant de la requête en la signalant.

## Pages des liens des courriels
page-invalid-title = Lien invalide
page-error-title = Erreur
page-error-body = Réessayez plus tard.
page-unsubscribe-invalid = Ce lien de désabonnement est invalide ou a été modifié.
page-unsubscribe-title = Se désabonner
page-unsubscribe-question = Ne plus recevoir les rapports par courriel ?
page-unsubscribed-title = Désabonné
page-unsubscribed-body = Vous ne recevrez plus ces rapports.
page-confirm-invalid = Ce lien de confirmation est invalide ou a été modifié.
page-confirm-title = Confirmer
page-confirm-question = Recevoir les rapports de progression à cette adresse ?
page-confirmed-title = Confirmé
page-confirmed-body = Les rapports arriveront à cette adresse.
page-link-expired-title = Lien expiré
page-link-expired-body = Ce lien vers le rapport a expiré. Ouvrez de nouveau le rapport depuis le tableau de bord pour obtenir un lien neuf.
page-link-altered-body = Ce lien vers le rapport est invalide ou a été modifié : il n'ouvre que le rapport pour lequel il a été fait.

## Courriel de confirmation d'un abonnement ($frequency : weekly ou monthly)
confirm-subject = Confirmez vos rapports de progression
confirm-body = Quelqu'un a demandé que des rapports de progression { $frequency ->
    [weekly] hebdomadaires
   *[monthly] mensuels
} soient envoyés à cette adresse.

    Pour les recevoir, confirmez ici : { $url }

    Si ce n'était pas vous, ignorez ce message : rien d'autre ne sera envoyé.

# Une condition de la règle d'un badge : le fait, puis où il en est par rapport à la cible
condition-field-opportunities_total = Opportunités
condition-field-opportunities_started = Opportunités commencées
condition-field-opportunities_in_progress = Opportunités en cours
condition-field-opportunities_implemented = Opportunités mises en œuvre
condition-field-opportunities_completed = Opportunités mises en œuvre
condition-field-hours_saved_weekly = Heures économisées par semaine
condition-field-hours_saved_annual = Heures économisées par an
condition-field-first_implementation_days = Jours jusqu'à la première mise en œuvre
condition-field-consecutive_active_days = Jours d'activité d'affilée
condition-value = { $op ->
    [gte] { $current } sur { $target }
    [gt] { $current } (plus de { $target })
    [lte] { $current } (au plus { $target })
    [lt] { $current } (moins de { $target })
    [eq] { $current } (exactement { $target })
   *[ne] { $current } (tout sauf { $target })
}
condition-none-yet = pas encore ({ $op ->
    [lte] au plus { $target }
    [lt] moins de { $target }
   *[other] { $target }
})
condition-no-target = aucune opportunité à compter pour l'instant
