# frozen_string_literal: true

module Igniter
  module Store
    module Protocol
      # Replay positions. Two kinds:
      #
      # - +{kind: :timestamp, value: Float}+ — the 0.5.2 cursor, an inclusive
      #   lower bound on transaction_time (the boundary fact comes again);
      # - +{kind: :timestamp_then_fact_id, value: Float, fact_id: String}+ —
      #   exclusive: facts ordered by (transaction_time, fact id) strictly
      #   after that pair, the tie-breaker the TBackend descriptor advertises.
      #   Paging with it visits every fact exactly once even when many share
      #   one timestamp (as long as no fact is later written with an older
      #   timestamp than the cursor — a realtime clock stepping back).
      class ReplayCursor
        # Cursor kind: transaction time only (inclusive).
        TIMESTAMP = :timestamp
        # Cursor kind: strictly after a (transaction time, fact id) pair.
        TIE_BREAK = :timestamp_then_fact_id
        # Accepted cursor kinds.
        KINDS = [TIMESTAMP, TIE_BREAK].freeze

        # @return [Float, nil] lower transaction-time bound
        attr_reader :value
        # @return [String, nil] last fact id already seen at +value+ (tie-break kind only)
        attr_reader :fact_id

        # @param fact [Hash, #transaction_time, #id] a fact packet or a fact
        # @return [Hash] the exclusive cursor right after +fact+
        def self.after(fact)
          tt, id = sort_key(fact)
          { kind: TIE_BREAK, value: tt, fact_id: id }
        end

        # @return [Array(Float, String)] the replay order of a fact or fact packet
        def self.sort_key(fact)
          if fact.is_a?(Hash)
            [(fact[:transaction_time] || fact[:timestamp]).to_f, fact[:id].to_s]
          else
            [fact.transaction_time.to_f, fact.id.to_s]
          end
        end

        # Parses a cursor Hash (Symbol or String keys, e.g. after a JSON round trip).
        # @param cursor [Hash, nil]
        # @return [ReplayCursor, nil]
        # @raise [ArgumentError] for a non-Hash, an unknown kind or a missing field
        def self.parse(cursor)
          return nil if cursor.nil?
          raise ArgumentError, "cursor must be a Hash, got #{cursor.class}" unless cursor.is_a?(Hash)

          c = cursor.transform_keys { |k| k.respond_to?(:to_sym) ? k.to_sym : k }
          kind = c[:kind].respond_to?(:to_sym) ? c[:kind].to_sym : c[:kind]
          raise ArgumentError, "unknown cursor kind: #{c[:kind].inspect} (expected one of #{KINDS.inspect})" unless KINDS.include?(kind)
          raise ArgumentError, "cursor value must be a number, got #{c[:value].inspect}" unless c[:value].is_a?(Numeric)
          if kind == TIE_BREAK && (c[:fact_id].nil? || c[:fact_id].to_s.empty?)
            raise ArgumentError, "cursor of kind #{TIE_BREAK.inspect} needs a fact_id"
          end

          new(kind, c[:value].to_f, kind == TIE_BREAK ? c[:fact_id].to_s : nil)
        end

        # @return [Symbol]
        attr_reader :kind

        def initialize(kind, value, fact_id)
          @kind = kind
          @value = value
          @fact_id = fact_id
        end

        # @return [Boolean] whether +fact+ lies at or after (timestamp kind) /
        #   strictly after (tie-break kind) this cursor
        def admits?(fact)
          tt, id = self.class.sort_key(fact)
          return tt >= @value if @kind == TIMESTAMP

          tt > @value || (tt == @value && id > @fact_id)
        end

        # Facts admitted by +cursor+ (all when nil), in (transaction_time, id)
        # order, at most +limit+ of them.
        # @param facts [Array] candidates, any order
        # @return [Array(Array, Boolean)] the page and whether facts were left out by +limit+
        def self.page(facts, cursor, limit)
          selected = cursor ? facts.select { |f| cursor.admits?(f) } : facts
          selected = selected.sort_by { |f| sort_key(f) }
          return [selected, false] if limit.nil? || selected.size <= limit

          [selected.first(limit), true]
        end
      end
    end
  end
end
