# frozen_string_literal: true

require "rspec/expectations"
require_relative "../../igniter-ledger"
require_relative "rspec/fact_description"
require_relative "rspec/key_matcher"
require_relative "rspec/write_fact"
require_relative "rspec/have_fact"
require_relative "rspec/have_history"
require_relative "rspec/matchers"
require_relative "rspec/helpers"

# `require "igniter/ledger/rspec"` (e.g. in spec_helper.rb) makes the
# matchers available in every example group, the `ledger` helper in groups
# tagged `:ledger` (or that include {Igniter::Ledger::RSpec::Helpers}), and
# the shared context "with an igniter ledger".
RSpec.configure do |config|
  config.include Igniter::Ledger::RSpec::Matchers
  config.include Igniter::Ledger::RSpec::Helpers, :ledger
end

RSpec.shared_context "with an igniter ledger" do
  include Igniter::Ledger::RSpec::Helpers
end
