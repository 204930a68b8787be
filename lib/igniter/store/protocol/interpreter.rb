# frozen_string_literal: true

require_relative "../census"
require_relative "interpreter/fact_io"
require_relative "interpreter/snapshots"
require_relative "interpreter/sync"

module Igniter
  module Store
    module Protocol
      # The open-protocol surface of one {IgniterStore} (doc/protocol.md): descriptor
      # registration (OP1), fact IO, metadata export (OP2), the wire router
      # (OP3) and replay / sync profiles (OP4). A thin adapter: all state
      # lives in the store and its schema graph, except the dedup registry.
      class Interpreter
        include FactIO
        include Snapshots
        include Sync

        # Descriptor kind => its handler.
        HANDLERS = {
          store: Handlers::StoreHandler,
          history: Handlers::HistoryHandler,
          access_path: Handlers::AccessPathHandler,
          relation: Handlers::RelationHandler,
          projection: Handlers::ProjectionHandler,
          derivation: Handlers::DerivationHandler,
          command: Handlers::CommandHandler,
          effect: Handlers::EffectHandler,
          subscription: Handlers::SubscriptionHandler
        }.freeze

        # Thresholds of the observability snapshot's storage alerts.
        DEFAULT_STORAGE_ALERT_THRESHOLDS = { quarantine_receipt_count: 10, storage_byte_size: 1_073_741_824 }.freeze

        # @param store [IgniterStore]
        # @param alert_thresholds [Hash] overrides; a nil threshold disables its alert
        def initialize(store, alert_thresholds: {})
          @store = store
          @registry = Registry.new
          @alert_thresholds = DEFAULT_STORAGE_ALERT_THRESHOLDS.merge(alert_thresholds)
          @wire = WireEnvelope.new(self)
        end

        # Validates and applies a descriptor (doc/protocol.md "Descriptors"). Identical content
        # registered before (by this interpreter) is answered +:deduplicated+
        # without running the handler again. On a file-backed store an
        # accepted descriptor is also journaled, so it is in force again after
        # a reopen (see {DescriptorJournal}).
        #
        # @param descriptor [Hash] Symbol or String top-level keys; must carry +kind+
        # @return [Receipt] accepted, deduplicated or rejected — never raises
        #   for a malformed descriptor (0.5.2 raised on non-Hash input)
        def register(descriptor)
          unless descriptor.is_a?(Hash)
            return Receipt.rejection("Descriptor must be a Hash, got #{descriptor.class}")
          end

          descriptor = Protocol.symbolize_top(descriptor)
          raw_kind = descriptor[:kind]
          return Receipt.rejection("Missing required field: kind") if raw_kind.nil?
          unless raw_kind.respond_to?(:to_sym)
            return Receipt.rejection("Unknown descriptor kind: #{raw_kind.inspect}")
          end

          kind = raw_kind.to_sym
          handler = HANDLERS[kind]
          return Receipt.rejection("Unknown descriptor kind: #{kind.inspect}", kind: kind) unless handler

          receipt = @registry.register(Fingerprint.of(descriptor), kind, descriptor) do
            persisted(kind, descriptor, handler.new(@store).call(descriptor))
          end
          receipt || Receipt.deduplicated(kind: kind, name: descriptor[:name]&.to_sym)
        end

        HANDLERS.each_key do |kind|
          # Same as {#register}; the descriptor still carries its own +kind+.
          define_method(:"register_#{kind}") { |descriptor| register(descriptor) }
        end

        # @return [WireEnvelope] the envelope router of this interpreter
        attr_reader :wire

        # @param envelope [Hash] see {WireEnvelope#dispatch}
        # @return [Hash] response envelope
        def dispatch(envelope)
          @wire.dispatch(envelope)
        end

        private

        # Journals an accepted descriptor of a persistent store (see
        # {DescriptorJournal}); a failure to persist becomes a receipt warning.
        def persisted(kind, descriptor, receipt)
          journal = receipt.accepted? && DescriptorJournal.for(@store)
          warning = journal && journal.record(kind, descriptor)
          receipt.warnings += [warning] if warning
          receipt
        end
      end
    end
  end
end
