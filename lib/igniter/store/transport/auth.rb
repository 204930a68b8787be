# frozen_string_literal: true

require "digest"

module Igniter
  module Store
    module Transport
      # The optional shared secret of every transport (op protocol, TCP and
      # HTTP envelopes): which requests pass, compared in constant time.
      module Auth
        module_function

        # @param expected [String, nil] the configured token; nil = no auth
        # @param given [Object] what the request carried
        # @param guarded [Boolean] whether this request needs the token at all
        # @return [Boolean]
        def allows?(expected, given, guarded: true)
          expected.nil? || !guarded || token_matches?(expected, given)
        end

        # Compares SHA-256 digests, so neither the token's bytes nor its
        # length show in the response time.
        # @param expected [String]
        # @param given [Object]
        # @return [Boolean] false unless +given+ is the same String
        def token_matches?(expected, given)
          given.is_a?(String) && Digest::SHA256.digest(given) == Digest::SHA256.digest(expected)
        end
      end
    end
  end
end
