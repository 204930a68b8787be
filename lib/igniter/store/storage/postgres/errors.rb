# frozen_string_literal: true

require_relative "../../core/errors"

module Igniter
  module Store
    module Postgres
      # The database cannot be reached (at open, or again after a lost
      # connection). The message names the URL without its password.
      class ConnectionError < Igniter::Store::Error
        # @return [String, nil] the URL with any password removed
        attr_reader :url

        # @param message [String]
        # @param url [String, nil] already redacted
        def initialize(message = nil, url: nil)
          @url = url
          super(message)
        end
      end

      # The ledger's schema was migrated by a newer igniter-ledger than this one.
      class SchemaVersionError < Igniter::Store::Error; end

      # A write whose connection died after COMMIT was sent, when the
      # outcome could not be settled after reconnecting. The fact ids name
      # what to look up; nothing was written twice.
      class WriteOutcomeUnknownError < ConnectionError
        # @return [Array<String>] ids of the facts of the lost transaction
        attr_reader :fact_ids

        def initialize(message = nil, url: nil, fact_ids: [])
          @fact_ids = fact_ids
          super(message, url: url)
        end
      end

      # A statement ran past `statement_timeout` or waited past
      # `lock_timeout` (e.g. behind a session that holds a key's row lock);
      # its transaction was rolled back, nothing of it was written.
      class TimeoutError < Igniter::Store::Error; end

      # Another process (or follower) already runs the named consumer.
      class ConsumerBusyError < Igniter::Store::Error
        # @return [String]
        attr_reader :consumer

        def initialize(message = nil, consumer: nil)
          @consumer = consumer
          super(message)
        end
      end
    end
  end
end
