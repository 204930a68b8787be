# frozen_string_literal: true

module Igniter
  module Store
    module Postgres
      # Facts to and from rows of the `facts` table. `body` holds the fact
      # body of doc/format.md with causation and transaction_time left out
      # (null and 0.0): those two are settled inside the write transaction,
      # under the clock lock, and live in their own columns, so the body (the
      # costly part) is encoded before the transaction starts. A fact read
      # back is equal to the fact written, Symbols included, on both paths.
      module Rows
        # The character PostgreSQL text cannot hold.
        NUL = "\u0000"
        # Joins the bodies of a batch into one statement parameter. JSON
        # escapes every control character inside strings, so a raw one never
        # occurs in a body; the server splits on it with `string_to_array`.
        BODY_SEPARATOR = "\u001e"
        # The same character in SQL.
        BODY_SEPARATOR_SQL = "chr(30)"
        # The columns {fact} reads, in a SELECT list.
        COLUMNS = "position, causation, transaction_time, body"
        # The same, qualified for a join on `facts f`.
        F_COLUMNS = "f.position, f.causation, f.transaction_time, f.body"

        module_function

        # `Fact#_unstamped_body`: on the native path the Rust fact-body
        # encoder, on the pure path {JsonCanon.unstamped_body}; both give the
        # same bytes.
        # @param id [String] the fact's id in the ledger
        # @return [String] the body text of +fact+, without causation and time
        def body(fact, id = fact.id)
          return fact._unstamped_body(id) if fact.respond_to?(:_unstamped_body)

          pure_body(fact, id)
        end

        # {body} by the pure-Ruby encoder, on either path.
        # @return [String]
        def pure_body(fact, id = fact.id)
          JsonCanon.unstamped_body(fact, id)
        end

        # @param row [Hash] with "position", "causation", "transaction_time", "body"
        # @param config [Config]
        # @return [Fact]
        # @raise [CorruptLedgerError] when the body breaks a decode rule
        def fact(row, config)
          attrs = JsonCanon.decode_fact_body(row["body"])
          unless attrs
            position = row["position"]
            raise CorruptLedgerError.new(
              "undecodable fact body at position #{position} of #{config.table("facts")} (#{config.display_url})",
              path: config.display_url, offset: position.to_i, reason: "undecodable"
            )
          end

          Fact.from_h(attrs.merge(causation: row["causation"], transaction_time: Float(row["transaction_time"])))
        end

        # The bodies of a batch as one parameter (see {BODY_SEPARATOR}).
        # @param bodies [Array<String>]
        # @return [String]
        # @raise [InternalError] a body holding the separator (no encoder writes one)
        def joined_bodies(bodies)
          joined = bodies.join(BODY_SEPARATOR)
          return joined if joined.count(BODY_SEPARATOR) == bodies.size - 1

          raise InternalError, "a fact body holds a raw U+001E, which JSON escapes: the body encoder is broken"
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
          # One encoder for all calls: it keeps no state between encodes.
          (@text_array ||= PG::TextEncoder::Array.new.freeze).encode(values)
        end

        # {text_array}, or nil (SQL NULL, which `unnest` pads with NULLs)
        # when every value is nil.
        # @return [String, nil]
        def text_array_or_null(values)
          values.all?(&:nil?) ? nil : text_array(values)
        end

        # A PostgreSQL array literal of Integers (for `$n::int[]`), by a
        # typed encoder, which skips the per-element type dispatch.
        # @return [String]
        def int_array(values)
          (@int_array ||= PG::TextEncoder::Array.new(elements_type: PG::TextEncoder::Integer.new).freeze).encode(values)
        end

        # A PostgreSQL array literal of Floats or nils (for `$n::float8[]`),
        # or nil when every value is nil. Untyped: it writes each Float by
        # `Float#to_s`, which round-trips; PG::TextEncoder::Float keeps only
        # 16 significant digits.
        # @return [String, nil]
        def float_array_or_null(values)
          text_array_or_null(values)
        end
      end
    end
  end
end
