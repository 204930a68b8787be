# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      module Views
        # Renders a report of unknown shape (a backend's recovery report,
        # storage statistics, server metrics) as nested tables: Hashes as
        # field/value rows, Arrays of Hashes as one table with a column per
        # field, anything else as escaped JSON text.
        module Tree
          # Nesting shown open before a value is collapsed.
          MAX_DEPTH = 6

          # @param value [Object]
          # @return [String] markup
          def tree(value, depth = 0)
            return %(<span class="json">#{json_text(value, limit: 400)}</span>) if depth >= MAX_DEPTH

            case value
            when Hash then hash_table(value, depth)
            when Array then array_view(value, depth)
            when nil then %(<span class="none">—</span>)
            else %(<span class="json">#{json_text(value)}</span>)
            end
          end

          # @param rows [Array<Hash>]
          # @param columns [Array] which fields, in order (default: every field seen)
          # @return [String] one table, a column per field
          def records_table(rows, columns = rows.flat_map(&:keys).uniq, depth = 0, css: "records")
            return %(<p class="none">none</p>) if rows.empty?

            head = columns.map { |c| "<th>#{h(c)}</th>" }.join
            body = rows.map do |row|
              "<tr>#{columns.map { |c| "<td>#{tree(row[c], depth + 1)}</td>" }.join}</tr>"
            end.join("\n")
            %(<table class="#{h(css)}"><thead><tr>#{head}</tr></thead><tbody>#{body}</tbody></table>)
          end

          private

          def hash_table(hash, depth)
            return %(<span class="none">{}</span>) if hash.empty?

            rows = hash.map { |k, v| "<tr><th>#{h(k)}</th><td>#{tree(v, depth + 1)}</td></tr>" }.join("\n")
            %(<table class="kv">#{rows}</table>)
          end

          def array_view(array, depth)
            return %(<span class="none">[]</span>) if array.empty?
            return records_table(array, array.flat_map(&:keys).uniq, depth) if array.all? { |item| item.is_a?(Hash) }

            %(<span class="json">#{json_text(array, limit: 400)}</span>)
          end
        end
      end
    end
  end
end
