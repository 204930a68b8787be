# frozen_string_literal: true

require_relative "capabilities"

module Igniter
  module Store
    # The storage backend contract (doc/contracts.md). A backend persists the
    # facts the engine writes and gives them back in order:
    #
    # - `write_fact(fact)` persists one built {Fact}, keeping its id and times;
    # - `replay` returns every persisted fact, oldest first;
    # - `close` releases files, locks and sockets, idempotently;
    # - `capabilities` declares which optional operations it has
    #   ({Capabilities}); callers never probe with `respond_to?`.
    #
    # Including this module gives the defaults for a backend that has only
    # the required operations; {IgniterStore#initialize} refuses an object
    # that does not declare its capabilities.
    module Backend
      # @return [Set<Symbol>] the optional operations this backend supports
      #   ({Capabilities::NONE} unless the including class says otherwise)
      def capabilities
        Capabilities::NONE
      end

      # @return [Array<Fact>] nothing: a backend that keeps no facts replays none
      def replay
        []
      end

      # @return [nil] nothing to release
      def close
        nil
      end

      # @param backend [Object, nil] what was given as `backend:`
      # @return [Object, nil] +backend+, when it keeps the contract
      # @raise [ArgumentError] +backend+ lacks `write_fact` or `capabilities`
      def self.check!(backend)
        return backend if backend.nil?

        missing = %i[write_fact capabilities].reject { |name| backend.respond_to?(name) }
        return backend if missing.empty?

        raise ArgumentError, "backend #{backend.class} does not keep the backend contract: it lacks " \
                             "#{missing.map { |m| "##{m}" }.join(" and ")} (include Igniter::Store::Backend; " \
                             "see doc/contracts.md)"
      end
    end
  end
end
