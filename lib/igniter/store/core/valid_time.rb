# frozen_string_literal: true

module Igniter
  module Store
    # Valid-time selection over one key's facts, for the logs that answer
    # bitemporal reads in Ruby (the pure-Ruby {FactLog} and the PostgreSQL
    # log); the native log answers the same from its Rust index. The rules,
    # with a table of cases, are in doc/bitemporal.md:
    #
    # - a fact's effective valid time is its +valid_time+, else its
    #   transaction time (a fact without one became true when recorded);
    # - valid at V: the greatest effective valid time <= V wins; of several
    #   facts with that valid time, the last appended (the correction);
    # - a fact is in effect from its valid time until the next valid time
    #   of the key that is in effect.
    #
    # Callers pass only the facts known at their +as_of+ (transaction time
    # <= as_of), in append order.
    module ValidTime
      module_function

      # @param fact [Fact]
      # @return [Float] +valid_time+, else +transaction_time+
      def effective(fact)
        fact.valid_time || fact.transaction_time
      end

      # @param facts [Array<Fact>] one key's known facts, append order
      # @param valid_at [Float]
      # @return [Fact, nil] the fact valid at +valid_at+
      def winner(facts, valid_at)
        best = nil
        best_time = nil
        facts.each do |fact|
          time = effective(fact)
          next if time > valid_at
          # >=: an equal valid time appended later is the correction.
          if best.nil? || time >= best_time
            best = fact
            best_time = time
          end
        end
        best
      end

      # @param facts [Array<Fact>] one key's known facts, append order
      # @param valid_from [Float, nil] inclusive; nil = unbounded
      # @param valid_to [Float, nil] inclusive; nil = unbounded
      # @return [Array<Fact>] the facts in effect at some valid time within
      #   the bounds, in valid-time order
      def timeline(facts, valid_from, valid_to)
        in_effect = []
        # Stable by (valid time, append order): Array#sort_by is not stable.
        facts.each_with_index.sort_by { |fact, i| [effective(fact), i] }.each do |fact, _|
          if in_effect.any? && effective(in_effect.last) == effective(fact)
            in_effect[-1] = fact
          else
            in_effect << fact
          end
        end
        in_effect.each_with_index.select do |fact, i|
          following = in_effect[i + 1]
          (valid_to.nil? || effective(fact) <= valid_to) &&
            (valid_from.nil? || following.nil? || effective(following) > valid_from)
        end.map(&:first)
      end
    end
  end
end
