# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # Field-by-field differences between two versions of a key's value.
      # Hashes are compared key by key, recursively, and report dotted paths
      # ("address.city"); anything else (Arrays, scalars, a Hash replaced by
      # a String) is compared as a whole at its path.
      module Diff
        # The path of a value that is not a Hash.
        WHOLE = "(value)"

        module_function

        # @param before [Object, nil] the previous version's value
        # @param after [Object] this version's value
        # @return [Array<Hash>] `{path:, change: "added"|"removed"|"changed", from:, to:}`
        #   in the order of +after+'s fields, then the removed ones
        def between(before, after)
          changes = []
          walk(before, after, nil, changes)
          changes
        end

        # What the first version of a key brings: each field of a Hash value
        # (or the whole value) as added.
        # @param value [Object]
        # @return [Array<Hash>] see {.between}
        def initial(value)
          return [{ path: WHOLE, change: "added", from: nil, to: value }] unless value.is_a?(Hash)

          value.map { |field, v| { path: field.to_s, change: "added", from: nil, to: v } }
        end

        # Appends to +changes+ one entry per field that differs between +before+ and +after+,
        # descending into Hashes present on both sides (paths joined with ".").
        # @api private
        def walk(before, after, path, changes)
          if before.is_a?(Hash) && after.is_a?(Hash)
            after.each do |field, value|
              child = path ? "#{path}.#{field}" : field.to_s
              if before.key?(field)
                walk(before[field], value, child, changes)
              else
                changes << { path: child, change: "added", from: nil, to: value }
              end
            end
            (before.keys - after.keys).each do |field|
              changes << { path: path ? "#{path}.#{field}" : field.to_s, change: "removed", from: before[field], to: nil }
            end
          elsif before != after
            changes << { path: path || WHOLE, change: "changed", from: before, to: after }
          end
        end
      end
    end
  end
end
