//! The storage contract: every test is written once against `Arc<dyn Store>` and instantiated for
//! both adapters (`sqlite::…` and `dynamodb::…`), so code that passes locally behaves the same deployed.
//!
//! Each test gets its own store (a temporary SQLite file or a fresh DynamoDB table on moto), so tests
//! run in parallel. Moto handles only ~400 requests per second: tests keep their request counts low.
//!
//! One test binary, one module per topic: `basics`, `batch_reads`, `conditions`, `updates`, `expiry`,
//! `transactions`, `queries`, `validation`, `races`, and the domain repositories written on top
//! (`accounts`, `connected_apps`, `second_factors`) (helpers in `support`), the SQLite-only race
//! across processes in `sqlite_across_processes`, and the DynamoDB-only promises of the emulator
//! the adapter relies on in `emulator`.

mod accounts;
mod basics;
mod batch_reads;
mod conditions;
mod connected_apps;
mod emulator;
mod expiry;
mod passkeys;
mod queries;
mod races;
mod second_factors;
mod sqlite_across_processes;
mod support;
mod transactions;
mod updates;
mod validation;

use portal_tests::{dynamo_store, sqlite_store};
use tempfile::TempDir;

use support::S;

/// A fresh store and whatever must outlive it (the SQLite file's directory).
struct Fixture {
    store: S,
    _dir: Option<TempDir>,
}

async fn sqlite_fixture() -> Fixture {
    let (store, dir) = sqlite_store();
    Fixture {
        store,
        _dir: Some(dir),
    }
}

async fn dynamodb_fixture() -> Fixture {
    Fixture {
        store: dynamo_store().await,
        _dir: None,
    }
}

/// Instantiates every contract test for one adapter, as `$adapter::<test name>`.
macro_rules! contract_tests {
    ($adapter:ident, $fixture:ident) => {
        mod $adapter {
            contract_tests!(@each $fixture;
                basics::get_of_a_missing_key_returns_none,
                basics::put_then_get_round_trips_every_value_kind_with_expiry_and_index_key,
                basics::empty_strings_empty_bytes_and_empty_lists_round_trip,
                basics::items_are_told_apart_by_both_partition_and_sort_key,
                basics::put_returns_the_live_item_it_replaced_and_replaces_it_whole,
                basics::delete_returns_the_removed_item_and_deleting_an_absent_key_returns_none,
                basics::update_returns_the_item_as_stored_after_the_update,
                conditions::writes_without_a_condition_succeed_whether_or_not_the_item_exists,
                conditions::not_exists_lets_writes_through_on_an_absent_item,
                conditions::not_exists_blocks_writes_on_a_present_item_and_reports_that_item,
                conditions::exists_blocks_writes_on_an_absent_item,
                conditions::exists_lets_writes_through_on_a_present_item,
                conditions::equals_lets_writes_through_when_the_attribute_has_the_value,
                conditions::equals_blocks_writes_when_the_attribute_has_another_value,
                conditions::equals_blocks_writes_when_the_value_has_another_type,
                conditions::equals_blocks_writes_when_the_attribute_is_missing,
                conditions::equals_blocks_writes_when_the_item_is_absent,
                conditions::all_equal_lets_writes_through_when_every_attribute_has_its_value,
                conditions::all_equal_blocks_writes_when_one_attribute_differs_or_is_missing,
                conditions::all_equal_blocks_writes_when_the_item_is_absent,
                conditions::all_equal_with_no_attributes_is_invalid,
                conditions::below_lets_writes_through_on_an_absent_item,
                conditions::below_lets_writes_through_when_the_attribute_is_missing,
                conditions::below_lets_writes_through_when_the_attribute_is_below_the_limit,
                conditions::below_blocks_writes_when_the_attribute_equals_the_limit,
                conditions::below_blocks_writes_when_the_attribute_is_above_the_limit,
                conditions::below_blocks_writes_when_the_attribute_is_not_a_number,
                updates::update_sets_removes_and_adds_while_leaving_other_attributes_alone,
                updates::update_adds_to_a_missing_number_starting_from_zero,
                updates::update_creates_the_item_when_it_is_absent,
                updates::update_guarded_by_exists_does_not_create_an_absent_item,
                updates::update_sets_keeps_and_clears_the_expiry,
                updates::update_sets_the_index_key_and_keeps_it_when_not_given,
                updates::adding_to_a_non_numeric_attribute_is_invalid_and_changes_nothing,
                batch_reads::answers_come_in_the_keys_order_with_none_for_missing_keys,
                batch_reads::expired_items_are_none_like_for_get,
                batch_reads::a_key_asked_twice_is_answered_twice,
                batch_reads::no_keys_answer_nothing,
                batch_reads::a_batched_read_sees_the_latest_write,
                batch_reads::more_than_100_keys_or_a_bad_key_are_invalid_and_100_are_read,
                batch_reads::a_batch_larger_than_one_response_is_answered_whole,
                expiry::expired_items_are_never_returned_by_get_or_query,
                expiry::an_item_expiring_this_very_second_is_already_gone,
                expiry::items_expiring_in_the_future_are_visible,
                expiry::put_with_not_exists_replaces_an_expired_item,
                expiry::update_of_an_expired_item_starts_from_an_empty_item,
                expiry::conditions_treat_an_expired_item_as_absent,
                expiry::deleting_an_expired_item_returns_none,
                transactions::a_transaction_applies_all_of_its_writes,
                transactions::a_transaction_whose_write_k_fails_names_k_and_applies_nothing,
                transactions::a_failing_check_blocks_the_whole_transaction,
                transactions::transactions_treat_expired_items_as_absent,
                transactions::a_transaction_with_several_failing_writes_names_the_first,
                transactions::a_transaction_whose_update_is_invalid_applies_nothing,
                transactions::a_transaction_touching_a_key_twice_is_invalid_and_applies_nothing,
                transactions::a_transaction_of_more_than_100_writes_is_invalid_and_applies_nothing,
                transactions::an_empty_transaction_is_invalid,
                transactions::a_transaction_of_100_writes_succeeds,
                queries::query_returns_one_partition_in_sort_key_order,
                queries::prefix_query_matches_exactly_the_sort_keys_with_that_prefix,
                queries::between_query_includes_both_bounds,
                queries::descending_query_returns_the_highest_sort_key_first,
                queries::paging_by_3_over_10_items_visits_every_item_once_in_order,
                queries::paging_over_partly_expired_items_visits_every_live_item_once,
                queries::paging_stays_inside_a_prefix_or_between_range,
                queries::index_query_finds_only_live_indexed_items_in_index_order,
                queries::index_paging_visits_every_item_once_even_when_index_sort_keys_repeat,
                queries::a_cursor_survives_encoding_and_a_malformed_cursor_is_invalid,
                queries::a_cursor_of_another_partition_or_a_table_cursor_on_the_index_is_invalid,
                queries::queries_with_a_bad_limit_an_inverted_range_or_no_partition_are_invalid,
                validation::reserved_attribute_names_are_invalid_everywhere,
                validation::malformed_attribute_names_are_invalid,
                validation::empty_keys_are_invalid,
                validation::an_item_over_400_kb_is_invalid,
                validation::an_update_growing_an_item_over_400_kb_is_invalid_and_changes_nothing,
                validation::an_update_touching_one_attribute_twice_is_invalid,
                races::twenty_concurrent_not_exists_puts_have_exactly_one_winner_in_each_of_50_rounds,
                races::twenty_concurrent_claiming_transactions_have_one_winner_and_losers_leave_nothing,
                races::twenty_concurrent_capped_increments_stop_exactly_at_the_cap,
                accounts::a_registration_is_unverified_and_expiring_and_its_address_registers_once,
                accounts::twenty_concurrent_registrations_of_one_address_make_exactly_one_account,
                accounts::verification_verifies_once_and_a_link_for_another_address_changes_nothing,
                accounts::a_password_is_replaced_once_per_credentials_and_a_reset_proves_the_mailbox,
                accounts::only_a_still_unverified_account_is_replaced_by_its_mailbox_owner,
                accounts::sessions_need_current_credentials_and_end_all_ends_every_other_one,
                accounts::an_email_change_moves_the_index_unless_taken_or_stale,
                accounts::a_profile_update_replaces_names_birth_date_and_phone_of_existing_accounts,
                accounts::a_deleted_account_leaves_nothing_and_its_address_registers_again,
                accounts::patients_are_listed_by_address_page_by_page,
                connected_apps::consents_are_listed_per_patient_and_a_withdrawn_one_has_no_scopes,
                connected_apps::grants_are_listed_per_patient_and_client_and_revoked_per_client,
                connected_apps::a_withdrawn_consent_refuses_older_codes_and_refreshes_but_not_newer_ones,
                connected_apps::a_consent_given_again_in_the_second_of_its_withdrawal_works,
                connected_apps::twenty_concurrent_takes_of_a_limit_stop_exactly_at_it,
                passkeys::a_passkey_is_added_once_listed_updated_and_removed,
                passkeys::a_challenge_is_taken_once_even_when_twenty_answers_race,
                second_factors::an_enrolment_is_all_or_nothing_and_happens_once,
                second_factors::each_totp_step_is_accepted_once_even_when_twenty_requests_race,
                second_factors::each_recovery_code_is_used_once_and_removal_leaves_nothing,
            );
        }
    };
    (@each $fixture:ident; $($topic:ident :: $test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let fixture = super::$fixture().await;
                super::$topic::$test(fixture.store.clone()).await;
            }
        )*
    };
}

contract_tests!(sqlite, sqlite_fixture);
contract_tests!(dynamodb, dynamodb_fixture);
