# frozen_string_literal: true

require "securerandom"

module Igniter
  module Store
    # One committed fact as the changefeed publishes it: the fact's identity
    # and bitemporal coordinates, plus the feed's own envelope (event id,
    # emission time and a replay cursor).
    #
    # Events are frozen; `fact` is the very Fact object that was committed,
    # so subscribers can read its value without another lookup.
    ChangeEvent = Struct.new(
      :schema_version, :id, :type, :store, :key, :fact_id, :transaction_time,
      :emitted_at, :producer, :causation, :cursor, :fact,
      keyword_init: true
    ) do
      # Envelope version of the event shape (not the fact's schema_version).
      self::SCHEMA_VERSION = 1
      # The only event type: a fact entered the log.
      self::TYPE = :fact_committed
      # Members that `to_h` exposes; `fact` stays out so the Hash is plain data.
      self::PUBLIC_MEMBERS = %i[
        schema_version id type store key fact_id transaction_time emitted_at producer causation cursor
      ].freeze

      # Builds the frozen event for +fact+ at position +sequence+ of the feed.
      #
      # @param fact [Fact] the committed fact (kept by identity)
      # @param sequence [Integer] the feed's sequence number for this event
      # @return [ChangeEvent] frozen
      def self.from_fact(fact, sequence:)
        new(
          schema_version: self::SCHEMA_VERSION,
          id: "change_#{SecureRandom.uuid}",
          type: self::TYPE,
          store: fact.store,
          key: fact.key,
          fact_id: fact.id,
          transaction_time: fact.transaction_time,
          emitted_at: Process.clock_gettime(Process::CLOCK_REALTIME),
          producer: fact.producer,
          causation: fact.causation,
          cursor: { sequence: sequence }.freeze,
          fact: fact
        ).freeze
      end

      # @return [Integer] this event's position in the feed
      def sequence
        cursor[:sequence]
      end

      # @return [Hash] every member but `fact`, in member order
      def to_h
        self.class::PUBLIC_MEMBERS.to_h { |name| [name, self[name]] }
      end
    end
  end
end
