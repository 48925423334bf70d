// @generated automatically by Diesel CLI.

diesel::table! {
    achievement_progress (analysis_id, badge_id) {
        analysis_id -> Uuid,
        badge_id -> Uuid,
        progress_percentage -> Int2,
        details -> Jsonb,
        next_milestone -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    activity_days (analysis_id, day) {
        analysis_id -> Uuid,
        day -> Date,
    }
}

diesel::table! {
    analyses (id) {
        id -> Uuid,
        url -> Text,
        normalized_url -> Text,
        company_name -> Nullable<Text>,
        sector -> Nullable<Text>,
        estimated_size -> Nullable<Text>,
        tier -> Nullable<Text>,
        hourly_rate -> Nullable<Float8>,
        currency -> Text,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
        version -> Int8,
        first_implemented_at -> Nullable<Timestamptz>,
        time_zone -> Text,
        language -> Text,
    }
}

diesel::table! {
    badge_metadata (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        description -> Text,
        icon -> Nullable<Text>,
        rarity -> Text,
        points -> Int4,
        category -> Text,
        unlock_criteria -> Jsonb,
        display_order -> Int4,
        active -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        translations -> Jsonb,
    }
}

diesel::table! {
    badge_versions (badge_id, version) {
        badge_id -> Uuid,
        version -> Int4,
        definition -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    email_confirmations (id) {
        id -> Int8,
        email -> Text,
        subscription_id -> Uuid,
        sent_at -> Timestamptz,
    }
}

diesel::table! {
    email_deliveries (id) {
        id -> Uuid,
        subscription_id -> Uuid,
        period_key -> Text,
        status -> Text,
        attempts -> Int2,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    email_delivery_attempts (id) {
        id -> Int8,
        delivery_id -> Uuid,
        attempt -> Int2,
        outcome -> Text,
        error -> Nullable<Text>,
        attempted_at -> Timestamptz,
    }
}

diesel::table! {
    email_subscriptions (id) {
        id -> Uuid,
        analysis_id -> Uuid,
        email -> Text,
        frequency -> Text,
        hourly_rate -> Nullable<Float8>,
        language -> Text,
        active -> Bool,
        last_sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    event_outbox (id) {
        id -> Int8,
        analysis_id -> Uuid,
        payload -> Jsonb,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    hourly_rates (analysis_id, set_at) {
        analysis_id -> Uuid,
        set_at -> Timestamptz,
        rate -> Float8,
    }
}

diesel::table! {
    opportunities (id) {
        id -> Uuid,
        analysis_id -> Uuid,
        opportunity_id -> Text,
        category -> Text,
        hours_per_week -> Float8,
        hours_per_year -> Int4,
        problem_teaser -> Nullable<Text>,
        complexity_level -> Int2,
        tools_hint -> Nullable<Text>,
        position -> Int2,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    progress_activity (id) {
        id -> Int8,
        analysis_id -> Uuid,
        opportunity_id -> Text,
        kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
        effort_hours -> Nullable<Float8>,
        occurred_at -> Timestamptz,
        activity_day -> Nullable<Date>,
        actor -> Nullable<Text>,
    }
}

diesel::table! {
    revoked_sessions (sub) {
        sub -> Text,
        before -> Timestamptz,
    }
}

diesel::table! {
    user_badges (id) {
        id -> Uuid,
        analysis_id -> Uuid,
        badge_id -> Uuid,
        version_earned -> Int4,
        earned_at -> Timestamptz,
    }
}

diesel::table! {
    user_progress (analysis_id, opportunity_id) {
        analysis_id -> Uuid,
        opportunity_id -> Text,
        status -> Text,
        implemented_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(achievement_progress -> analyses (analysis_id));
diesel::joinable!(achievement_progress -> badge_metadata (badge_id));
diesel::joinable!(activity_days -> analyses (analysis_id));
diesel::joinable!(badge_versions -> badge_metadata (badge_id));
diesel::joinable!(email_confirmations -> email_subscriptions (subscription_id));
diesel::joinable!(email_deliveries -> email_subscriptions (subscription_id));
diesel::joinable!(email_delivery_attempts -> email_deliveries (delivery_id));
diesel::joinable!(email_subscriptions -> analyses (analysis_id));
diesel::joinable!(event_outbox -> analyses (analysis_id));
diesel::joinable!(hourly_rates -> analyses (analysis_id));
diesel::joinable!(opportunities -> analyses (analysis_id));
diesel::joinable!(progress_activity -> analyses (analysis_id));
diesel::joinable!(user_badges -> analyses (analysis_id));
diesel::joinable!(user_badges -> badge_metadata (badge_id));

diesel::allow_tables_to_appear_in_same_query!(
    achievement_progress,
    activity_days,
    analyses,
    badge_metadata,
    badge_versions,
    email_confirmations,
    email_deliveries,
    email_delivery_attempts,
    email_subscriptions,
    event_outbox,
    hourly_rates,
    opportunities,
    progress_activity,
    revoked_sessions,
    user_badges,
    user_progress,
);
