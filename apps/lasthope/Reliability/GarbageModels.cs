using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// Garbage model files for POST /v1/models: random bytes, a valid minimal LightGBM model with one field made hostile
/// (1e400 leaves, out-of-range children, sizes meant to make the loader allocate gigabytes), truncated, XGBoost JSON
/// with wrong shapes, and Lasthope ALS files whose header checks out but promises billions of users.
/// </summary>
internal static class GarbageModels
{
    /// <summary>A valid two-tree LightGBM v3 model over two built-in features.</summary>
    public const string LightGbmTemplate = """
        tree
        version=v3
        num_class=1
        num_tree_per_iteration=1
        label_index=0
        max_feature_idx=1
        objective=lambdarank
        feature_names=heuristic_score ctr7d_item
        feature_infos=[0:1] [0:1]

        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=0.5
        decision_type=0
        left_child=-1
        right_child=-2
        leaf_value=0.25 -0.75
        shrinkage=1


        Tree=1
        num_leaves=2
        num_cat=0
        split_feature=1
        split_gain=1
        threshold=0.5
        decision_type=10
        left_child=-1
        right_child=-2
        leaf_value=1 2
        shrinkage=1


        end of trees

        """;

    public static readonly byte[] LightGbmTemplateBytes = Encoding.UTF8.GetBytes(LightGbmTemplate);

    private static readonly string[] HostileValues =
    [
        "1e400", "-1", "0", "NaN", "-Infinity", string.Empty, "2147483647", "99999999999999999999", "1 2 3 4 5 6 7 8 9", "x", "\u0000",
        "-2147483648", "1e-400", new string('9', 10_000),
    ];

    public static HostileRequest Request(Random r, int index)
    {
        var activate = r.Next(2) == 0 ? "&activate=true" : string.Empty;
        var surface = r.Next(8) == 0 ? "recommend" : "home";
        var form = r.Next(8);
        return new HostileRequest("garbage-model", "POST", $"/v1/models?surface={surface}{activate}", r.Next(3) == 0 ? "text/plain" : "application/octet-stream", Body(r, form))
        {
            Variant = form switch { 0 => "random bytes", 1 => "truncated", 2 or 3 => "hostile field", 4 => "wrong structure", 5 => "XGBoost JSON", _ => "ALS header" },
        };
    }

    private static byte[] Body(Random r, int form)
    {
        switch (form)
        {
            case 0:
            {
                var bytes = new byte[r.Next(0, 256 * 1024)];
                r.NextBytes(bytes);
                return bytes;
            }

            case 1:
                return LightGbmTemplateBytes[..r.Next(0, LightGbmTemplateBytes.Length)];
            case 2 or 3:
            {
                // One field of the valid model made hostile.
                var lines = LightGbmTemplate.Split('\n');
                var fields = lines.Select((l, i) => (l, i)).Where(p => p.l.Contains('=', StringComparison.Ordinal)).ToList();
                var (line, at) = fields[r.Next(fields.Count)];
                var name = line[..line.IndexOf('=', StringComparison.Ordinal)];
                lines[at] = $"{name}={HostileValues[r.Next(HostileValues.Length)]}";
                return Encoding.UTF8.GetBytes(string.Join('\n', lines));
            }

            case 4:
            {
                // Structurally wrong: children out of range, a feature beyond the list, sizes that ask for gigabytes.
                string[] swaps =
                [
                    "left_child=-1|left_child=7", "split_feature=0|split_feature=99999", "num_leaves=2|num_leaves=100000000",
                    "max_feature_idx=1|max_feature_idx=2147483646", "num_cat=0|num_cat=1000000000", "Tree=1|Tree=0",
                    "feature_names=heuristic_score ctr7d_item|feature_names=" + string.Join(' ', Enumerable.Range(0, 100_000).Select(i => $"f{i}")),
                    "end of trees|", "decision_type=0|decision_type=255", "num_tree_per_iteration=1|num_tree_per_iteration=0",
                ];
                var swap = swaps[r.Next(swaps.Length)].Split('|');
                var text = LightGbmTemplate;
                var position = text.IndexOf(swap[0], StringComparison.Ordinal);
                return Encoding.UTF8.GetBytes(text[..position] + swap[1] + text[(position + swap[0].Length)..]);
            }

            case 5:
            {
                string[] xgboost =
                [
                    "{\"learner\":{}}", "{\"learner\":{\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"trees\":[{}]}}}}",
                    "{\"learner\":{\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"trees\":[{\"left_children\":[1e400],\"right_children\":\"x\"}]}}," +
                    "\"learner_model_param\":{\"num_feature\":\"-1\",\"base_score\":\"NaN\"}}}",
                    "{\"learner\":{\"learner_model_param\":{\"num_feature\":\"2147483647\"},\"gradient_booster\":{\"name\":\"gbtree\",\"model\":{\"gbtree_model_param\":{\"num_trees\":\"1000000000\"},\"trees\":[]}}}}",
                    "[]", "null", "\"model\"", "{\"learner\":" + new string('[', 100_000),
                ];
                return Encoding.UTF8.GetBytes(xgboost[r.Next(xgboost.Length)]);
            }

            default:
                return AlsHeader(r);
        }
    }

    /// <summary>A Lasthope ALS header with a correct CRC and hostile sizes, then a little garbage.</summary>
    private static byte[] AlsHeader(Random r)
    {
        var file = new byte[96 + r.Next(0, 4_096)];
        r.NextBytes(file.AsSpan(96));
        byte[] magic = [0x89, (byte)'L', (byte)'H', (byte)'A', (byte)'L', (byte)'S', (byte)'\r', (byte)'\n'];
        magic.CopyTo(file, 0);
        file.AsSpan(8, 88).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(8), r.Next(4) == 0 ? 2u : 1u);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(12), 96);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), (uint)r.Next(1, 4_097));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), r.Next(2) == 0 ? int.MaxValue : (uint)r.Next(0, 1_000));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24), r.Next(2) == 0 ? int.MaxValue : (uint)r.Next(0, 1_000));
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(40), r.Next(2) == 0 ? float.NaN : 0.1f);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(64), (uint)r.Next(0, 5));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(80), r.Next(8) == 0 ? 0u : Crc32C(file.AsSpan(0, 80)));
        for (var i = 96; i + 4 <= file.Length && i < 96 + (4 * 16); i += 4)
        {
            // Id lengths: mostly small, sometimes 4 GB.
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(i), r.Next(4) == 0 ? uint.MaxValue : (uint)r.Next(0, 16));
        }

        return file;
    }

    /// <summary>CRC-32C (Castagnoli), as the ALS format's header checksum.</summary>
    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
