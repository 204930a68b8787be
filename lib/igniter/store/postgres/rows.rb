# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # Facts to and from the `facts.body` column, which holds the exact fact
      # body of doc/format.md (the bytes a WAL frame would carry), so a fact
      # read back is equal to the fact written, Symbols included, on both
      # Ruby paths.
      module Rows
        NUL = "\u0000"

        module_function

        # @return [String] the body text of +fact+
        def body(fact)
          JsonCanon.fact_body(fact)
        end

        # @param body [String] a `facts.body` value
        # @param position [Integer, String] for the error message
        # @param config [Config]
        # @return [Fact]
        # @raise [CorruptLedgerError] when the body breaks a decode rule
        def fact(body, position, config)
          attrs = JsonCanon.decode_fact_body(body)
          return Fact.from_h(attrs) if attrs

          raise CorruptLedgerError.new(
            "undecodable fact body at position #{position} of #{config.table("facts")} (#{config.display_url})",
            path: config.display_url, offset: position.to_i, reason: "undecodable"
          )
        end

        # The value as jsonb text for scope filters, or nil when PostgreSQL's
        # jsonb cannot hold it (a NUL character): such heads are filtered in
        # Ruby only.
        # @return [String, nil]
        def value_json(value)
          json = JsonCanon.canonical_json(value)
          json.include?("\\u0000") ? nil : json
        end

        # Store names and keys live in text columns, which cannot hold NUL.
        # @raise [ArgumentError]
        def text!(name, text)
          return text unless text.include?(NUL)

          raise ArgumentError, "PostgresBackend cannot store a #{name} containing a NUL character: #{text.inspect[0, 60]}"
        end

        # A PostgreSQL array literal of text values (for `$n::text[]`).
        # @return [String]
        def text_array(values)
          PG::TextEncoder::Array.new.encode(values)
        end
      end
    end
  end
end
