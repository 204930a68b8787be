# frozen_string_literal: true

require "time"
require "date"

module Igniter
  module Store
    module IntelligentLedger
      # Pure computation: turns a technician's base facts (weekly template,
      # overrides, active reservations) into an availability snapshot value.
      # It never touches a store; the caller passes the facts and the ids
      # the snapshot is derived from.
      #
      # Fact values are read with Symbol keys (the store normalizes keys on
      # both paths). All times are UTC epoch Floats.
      class AvailabilityDeriver
        DERIVATION_NAME = "availability_snapshot"
        DERIVATION_VERSION = "1.0"
        SECONDS_PER_DAY = 86_400

        # @param base_facts [Hash] +:template+ (Fact or nil), +:overrides+ and
        #   +:active_reservations+ (Arrays of Facts)
        # @param horizon_start [Date] first day of the window
        # @param horizon_days [Integer] number of days in the window
        # @param source_fact_ids [Array<String>] ids the snapshot derives from
        # @param source_fact_refs [Array<Hash>, nil] +id/store/role/key+ refs
        # @return [Hash{String => Object}] the snapshot value (String keys)
        def derive(base_facts:, horizon_start:, horizon_days:, source_fact_ids:, source_fact_refs: nil)
          slots = expand_template(base_facts[:template], horizon_start, horizon_days)
          blocks = collect_blocks(Array(base_facts[:overrides]), Array(base_facts[:active_reservations]))
          blocks.each { |block| slots = subtract(slots, block) }
          window = horizon_window(horizon_start, horizon_days)

          {
            "available_slots" => slots.map { |s, e| { "start" => s, "end" => e } },
            "blocked_intervals" => merge(clip(blocks, window)).map { |s, e| { "start" => s, "end" => e } },
            "available_seconds" => slots.sum { |s, e| e - s }.round,
            "derived_from_fact_ids" => Array(source_fact_ids).uniq,
            "derived_from_fact_refs" => Array(source_fact_refs).uniq { |ref| ref["id"] || ref[:id] },
            "derivation" => { "name" => DERIVATION_NAME, "version" => DERIVATION_VERSION },
            "computed_at" => Time.now.iso8601(3),
            "horizon_start" => horizon_start.iso8601,
            "horizon_days" => horizon_days
          }
        end

        private

        # Weekly schedule keys are day-of-week numbers ("0" = Sunday) holding
        # ["HH:MM", "HH:MM"] pairs; empty or inverted slots are dropped.
        def expand_template(template, horizon_start, horizon_days)
          schedule = (template && template.value[:weekly_schedule]) || {}
          slots = []
          horizon_days.times do |offset|
            day = horizon_start + offset
            Array(schedule[day.wday.to_s.to_sym]).each do |pair|
              s = clock_on(day, pair[0])
              e = clock_on(day, pair[1])
              slots << [s, e] if e > s
            end
          end
          slots.sort_by(&:first)
        end

        def clock_on(day, hhmm)
          hour, minute = hhmm.to_s.split(":").map(&:to_i)
          Time.utc(day.year, day.month, day.day, hour || 0, minute || 0, 0).to_f
        end

        # Overrides are versioned by key: only the latest version of each
        # override counts, so rewriting an override as "cancel" removes the
        # block it used to declare (0.5.2 kept every version blocking).
        def collect_blocks(overrides, reservations)
          (latest_per_key(overrides) + reservations).filter_map do |fact|
            value = fact.value
            next if value[:type].to_s == "cancel"

            s = value[:start].to_f
            e = value[:end].to_f
            [s, e] if e > s
          end.sort_by(&:first)
        end

        # Latest by transaction_time; equal times resolve to the later append.
        def latest_per_key(facts)
          latest = {}
          facts.each do |fact|
            current = latest[fact.key]
            latest[fact.key] = fact if current.nil? || fact.transaction_time >= current.transaction_time
          end
          latest.values
        end

        def subtract(slots, (bs, be))
          slots.each_with_object([]) do |(s, e), out|
            if be <= s || bs >= e
              out << [s, e]
            elsif bs <= s && be >= e
              next
            elsif bs > s && be < e
              out << [s, bs] << [be, e]
            elsif bs <= s
              out << [be, e] if be < e
            elsif bs > s
              out << [s, bs]
            end
          end
        end

        def horizon_window(horizon_start, horizon_days)
          start = Time.utc(horizon_start.year, horizon_start.month, horizon_start.day).to_f
          [start, start + (horizon_days * SECONDS_PER_DAY)]
        end

        # Blocks outside the horizon say nothing about this snapshot; the
        # parts inside are reported (and later counted) once.
        def clip(blocks, (ws, we))
          blocks.filter_map do |s, e|
            cs = [s, ws].max
            ce = [e, we].min
            [cs, ce] if ce > cs
          end
        end

        def merge(blocks)
          blocks.sort_by(&:first).each_with_object([]) do |(s, e), out|
            if out.any? && s <= out.last[1]
              out.last[1] = [out.last[1], e].max
            else
              out << [s, e]
            end
          end
        end
      end
    end
  end
end
