# frozen_string_literal: true

module Igniter
  module Store
    # A fact from outside (a network client) that cannot enter the log as
    # sent: its value_hash does not match its value, or its id is taken.
    class InvalidFactError < Error; end

    module Engine
      # Entry point for facts built elsewhere (the op protocol's legacy
      # `write_fact`): the fact keeps its id, causation and times, but is
      # checked, then committed exactly like a local write — persisted,
      # logged, indexed and emitted to the changefeed under the write lock,
      # so changefeed order is WAL order. No derivations run: the writer
      # already ran its own and sends their facts as well.
      module FactIngest
        # @param fact [Fact] e.g. `Fact.from_h` of a wire body
        # @return [Fact] the committed fact (with value_hash filled in when
        #   the sender left it nil)
        # @raise [InvalidFactError] value_hash mismatch or duplicate id;
        #   nothing is written then
        def ingest_fact(fact)
          fact = verified_hash(fact)
          calls = @write_lock.synchronize do
            raise InvalidFactError, "duplicate fact id #{fact.id.inspect}" if @log.fact_by_id(fact.id)

            commit(fact)
          end
          @cache.notify(calls)
          fact
        end

        # Checkpoints +facts+ (as given, not the live log) to the backend,
        # serialized with writes; a no-op without snapshot support.
        # @param facts [Array<Fact>]
        # @return [self]
        def write_backend_snapshot(facts)
          @write_lock.synchronize do
            @backend.write_snapshot(facts) if Capabilities.of(@backend).include?(Capabilities::SNAPSHOTS)
          end
          self
        end

        private

        def verified_hash(fact)
          expected = begin
            JsonCanon.value_hash(fact.value)
          rescue JSON::GeneratorError, EncodingError => e
            raise InvalidFactError, "invalid value in fact #{fact.id.inspect}: #{e.message}"
          end
          return Fact.from_h(fact.to_h.merge(value_hash: expected)) if fact.value_hash.nil?
          return fact if fact.value_hash == expected

          raise InvalidFactError,
                "value_hash mismatch for fact #{fact.id.inspect}: sent #{fact.value_hash}, computed #{expected}"
        end
      end
    end

    class IgniterStore
      include Engine::FactIngest
    end
  end
end
