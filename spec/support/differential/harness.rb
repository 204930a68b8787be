# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tempfile"

module LedgerSpec
  module Differential
    # Runs a list of cases in a native and in a pure child process (each
    # prints its transcript through Runner) and reports the cases whose lines
    # differ. Used by the differential spec and by `rake fuzz:diff`; plain
    # Ruby, no rspec.
    module Harness
      ROOT = File.expand_path("../../..", __dir__)
      REGRESSIONS = File.join(ROOT, "spec/fixtures/differential/regressions.jsonl")
      PATHS = {
        native: { "IGNITER_LEDGER_REQUIRE_NATIVE" => "1", "IGNITER_LEDGER_PURE" => nil },
        pure: { "IGNITER_LEDGER_PURE" => "1", "IGNITER_LEDGER_REQUIRE_NATIVE" => nil }
      }.freeze
      CHILD = <<~RUBY
        require "igniter-ledger"
        require #{File.join(__dir__, "generator.rb").inspect}
        require #{File.join(__dir__, "runner.rb").inspect}
        LedgerSpec::Differential::Runner.main(ARGV)
      RUBY

      # One case whose transcripts differ.
      Difference = Struct.new(:index, :kase, :native, :pure)

      module_function

      # @param cases [Array<Array>]
      # @return [Hash{Symbol=>Array<String>}] transcript lines per path
      def transcripts(cases)
        Tempfile.create(["differential", ".bin"]) do |file|
          file.binmode
          file.write(Marshal.dump(cases))
          file.flush
          PATHS.to_h { |name, env| [name, child(env, file.path)] }
        end
      end

      # @return [Array<Difference>]
      def differences(cases)
        lines = transcripts(cases)
        if lines.values.any? { |l| l.size != cases.size }
          raise "a child printed #{lines.transform_values(&:size)} lines for #{cases.size} cases"
        end

        cases.each_index.filter_map do |i|
          Difference.new(i, cases[i], lines[:native][i], lines[:pure][i]) if lines[:native][i] != lines[:pure][i]
        end
      end

      # @return [Array<Array>] every case kept in the regressions file
      def regressions(path = REGRESSIONS)
        return [] unless File.exist?(path)

        File.readlines(path).reject { |l| l.strip.empty? }.map do |line|
          Marshal.load([JSON.parse(line).fetch("case")].pack("H*")) # rubocop:disable Security/MarshalLoad
        end
      end

      # Appends a case to the regressions file (skipped when already kept).
      def keep(kase, origin, path = REGRESSIONS)
        hex = Marshal.dump(kase).unpack1("H*")
        return false if File.exist?(path) && File.foreach(path).any? { |l| l.include?(hex) }

        File.open(path, "a") { |f| f.puts(JSON.generate("found" => origin, "case" => hex)) }
        true
      end

      def child(env, cases_file)
        clean = { "BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil, "RUBYOPT" => nil }
        cmd = [RbConfig.ruby, "-I", File.join(ROOT, "lib"), "-e", CHILD, "--", cases_file]
        out, err, status = Open3.capture3(clean.merge(env), *cmd, chdir: ROOT)
        raise "differential child (#{env.compact}) failed: #{err[-2000..] || err}" unless status.success?

        out.lines.map(&:chomp)
      end
    end
  end
end
