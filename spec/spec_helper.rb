# frozen_string_literal: true

# The suite runs twice, in two processes:
#   IGNITER_LEDGER_REQUIRE_NATIVE=1 rspec   (Rust extension, a failed load raises)
#   IGNITER_LEDGER_PURE=1 rspec             (pure-Ruby classes)
# Every example is written once and must pass on both paths.

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))

# Stdlib used by the specs themselves. The library must load JSON, Set,
# FileUtils, SecureRandom, Digest and Zlib on its own; that is pinned in
# spec/igniter/ledger_compatibility_spec.rb through a fresh subprocess,
# so requiring them here does not hide a missing require.
require "json"
require "set"
require "tmpdir"
require "fileutils"
require "securerandom"
require "stringio"
require "digest"
require "zlib"
require "open3"
require "rbconfig"
require "objspace"

require "igniter-ledger"

Dir[File.join(__dir__, "support", "**", "*.rb")].sort.each { |file| require file }

RSpec.configure do |config|
  config.expect_with :rspec do |expectations|
    expectations.syntax = :expect
    expectations.include_chain_clauses_in_custom_matcher_descriptions = true
  end

  config.mock_with :rspec do |mocks|
    mocks.syntax = :expect
    mocks.verify_partial_doubles = true
  end

  config.disable_monkey_patching!
  config.shared_context_metadata_behavior = :apply_to_host_groups
  config.order = :random
  Kernel.srand config.seed

  config.include LedgerSpec::Helpers

  config.before(:suite) do
    $stdout.puts "igniter-ledger path: #{Igniter::Store::NATIVE ? "native" : "pure"}"
  end
end
