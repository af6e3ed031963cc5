using System.Globalization;
using System.Text.Json;

namespace Lasthope.Trees.Loading;

/// <summary>
/// Reads XGBoost's JSON model (<c>Booster.save_model("model.json")</c>; schema in dmlc/xgboost doc/model.schema).
/// XGBoost sends a document left when <c>float(x) &lt; split_condition</c> and a missing (NaN) value to
/// <c>default_left</c>. Because both sides are float32, <c>float(x) &lt; t</c> equals <c>float(x) &lt;= prev(t)</c>
/// (prev = the next float towards minus infinity), which is LightGBM's canonical <c>x &lt;= threshold</c> rule on
/// inputs rounded to float: that is how the trees are stored here.
/// </summary>
internal static class XGBoostJsonReader
{
    public static SourceEnsemble Read(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            // A JSON document cut short fails exactly like this, so say both.
            throw ModelLoadException.Truncated($"The XGBoost JSON model is truncated or malformed: {e.Message}", e);
        }

        using (document)
        {
            try
            {
                return Read(document.RootElement);
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
            {
                throw ModelLoadException.Corrupt($"Not a valid XGBoost JSON model: {e.Message}", e);
            }
        }
    }

    private static SourceEnsemble Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("learner", out var learner))
        {
            throw ModelLoadException.Corrupt("Not an XGBoost JSON model: there is no 'learner' object.");
        }

        var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Array
            ? string.Join('.', v.EnumerateArray().Select(e => e.GetInt32().ToString(CultureInfo.InvariantCulture)))
            : "unknown";

        var booster = learner.GetProperty("gradient_booster");
        var boosterName = booster.GetProperty("name").GetString();
        if (boosterName != "gbtree")
        {
            throw ModelLoadException.Unsupported($"The XGBoost booster '{boosterName}' is not supported (gbtree is; dart and gblinear are not).");
        }

        var param = learner.GetProperty("learner_model_param");
        var numClass = ParseIntString(param, "num_class", 0);
        var numTarget = ParseIntString(param, "num_target", 1);
        if (numTarget > 1)
        {
            throw ModelLoadException.Unsupported($"Multi-target XGBoost models are not supported (num_target={numTarget}).");
        }

        var classes = Math.Max(1, numClass);

        var featureCount = ParseIntString(param, "num_feature", -1);
        if (featureCount < 0)
        {
            throw ModelLoadException.Corrupt("learner_model_param has no num_feature.");
        }

        var objective = learner.GetProperty("objective").GetProperty("name").GetString() ?? "";
        var baseScores = ParseBaseScore(param.GetProperty("base_score").GetString() ?? "0.5", classes);
        var baseScore = baseScores[0];
        var multiclass = objective is "multi:softprob" or "multi:softmax";
        if (multiclass != (classes > 1))
        {
            throw ModelLoadException.Corrupt($"The objective '{objective}' does not go with num_class={numClass}.");
        }

        var (transform, margin) = objective switch
        {
            // XGBoost starts every class's margin at base_score itself (softmax defines no ProbToMargin).
            "multi:softprob" or "multi:softmax" => (OutputTransform.Softmax, baseScore),
            "binary:logistic" or "reg:logistic" => (OutputTransform.Sigmoid, Logit(baseScore)),
            "binary:logitraw" => (OutputTransform.Identity, Logit(baseScore)),
            "reg:squarederror" or "reg:linear" or "reg:pseudohubererror" or "reg:absoluteerror" or "reg:quantileerror"
                or "rank:pairwise" or "rank:ndcg" or "rank:map" => (OutputTransform.Identity, baseScore),
            "count:poisson" or "reg:gamma" or "reg:tweedie" => (OutputTransform.Exponential, Math.Log(baseScore)),
            _ => throw ModelLoadException.Unsupported($"The XGBoost objective '{objective}' is not supported."),
        };

        var names = learner.TryGetProperty("feature_names", out var fn) && fn.ValueKind == JsonValueKind.Array && fn.GetArrayLength() == featureCount
            ? fn.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : Enumerable.Range(0, featureCount).Select(i => $"f{i}").ToArray();

        var model = booster.GetProperty("model");
        var treeArray = model.GetProperty("trees");
        var declared = ParseIntString(model.GetProperty("gbtree_model_param"), "num_trees", -1);
        if (declared != treeArray.GetArrayLength())
        {
            throw ModelLoadException.Corrupt($"gbtree_model_param says {declared} trees, the model has {treeArray.GetArrayLength()}.");
        }

        var trees = new SourceTree[treeArray.GetArrayLength()];
        var t = 0;
        foreach (var tree in treeArray.EnumerateArray())
        {
            trees[t] = ReadTree(t, tree);
            trees[t].Validate(t, featureCount);
            t++;
        }

        // tree_info names each tree's output (class); gbtree writes it for every model.
        var treeClass = new int[trees.Length];
        if (model.TryGetProperty("tree_info", out var info))
        {
            if (info.GetArrayLength() != trees.Length)
            {
                throw ModelLoadException.Corrupt($"tree_info has {info.GetArrayLength()} entries for {trees.Length} trees.");
            }

            var i = 0;
            foreach (var e in info.EnumerateArray())
            {
                treeClass[i] = e.GetInt32();
                if ((uint)treeClass[i] >= (uint)classes)
                {
                    throw ModelLoadException.Corrupt($"tree_info gives tree {i} the class {treeClass[i]}, but the model has {classes}.");
                }

                i++;
            }
        }
        else if (classes > 1)
        {
            throw ModelLoadException.Corrupt("A multiclass model needs tree_info to say which class each tree scores.");
        }

        return new SourceEnsemble
        {
            Format = ModelFormat.XGBoostJson,
            Objective = objective,
            Transform = transform,
            FeatureCount = featureCount,
            FeatureNames = names,
            Trees = trees,
            ClassCount = classes,
            TreeClass = treeClass,
            BaseScore = margin,
            BaseScores = multiclass ? baseScores : null,
            RoundInputsToFloat = true,
            Boosting = "gbtree",
            FormatVersion = version,
        };
    }

    private static SourceTree ReadTree(int index, JsonElement tree)
    {
        var left = Ints(tree, "left_children");
        var right = Ints(tree, "right_children");
        var nodes = left.Length;
        var declared = ParseIntString(tree.GetProperty("tree_param"), "num_nodes", -1);
        var leafVector = ParseIntString(tree.GetProperty("tree_param"), "size_leaf_vector", 0);
        if (leafVector > 1)
        {
            throw ModelLoadException.Unsupported($"Tree {index} has vector leaves (multi-target), which are not supported.");
        }

        if (declared != nodes || right.Length != nodes || nodes == 0)
        {
            throw ModelLoadException.Corrupt($"Tree {index}: num_nodes={declared} but {nodes} left and {right.Length} right children.");
        }

        var conditions = Floats(tree, "split_conditions", nodes, index);
        var indices = Ints(tree, "split_indices");
        var hessian = Floats(tree, "sum_hessian", nodes, index);
        var gain = Floats(tree, "loss_changes", nodes, index);
        var defaultLeft = Bools(tree, "default_left");
        if (indices.Length != nodes || defaultLeft.Length != nodes)
        {
            throw ModelLoadException.Corrupt($"Tree {index}: split_indices or default_left do not have {nodes} entries.");
        }

        if (tree.TryGetProperty("split_type", out var st) && st.EnumerateArray().Any(e => e.GetInt32() != 0))
        {
            throw ModelLoadException.Unsupported($"Tree {index} has categorical splits, which are not supported for XGBoost models.");
        }

        // XGBoost numbers nodes freely; leaves get canonical indices in node-id order, internal nodes keep their order.
        var internalIndex = new int[nodes];
        var leafIndex = new int[nodes];
        int internals = 0, leaves = 0;
        for (var i = 0; i < nodes; i++)
        {
            if (left[i] == -1)
            {
                leafIndex[i] = leaves++;
            }
            else
            {
                internalIndex[i] = internals++;
            }
        }

        if (left[0] != -1 && internalIndex[0] != 0)
        {
            throw ModelLoadException.Corrupt($"Tree {index}: node 0 is not the root.");
        }

        var n = internals;
        var result = new
        {
            Left = new int[n], Right = new int[n], Feature = new int[n], Threshold = new double[n], Decision = new byte[n],
            Gain = new double[n], Cover = new double[n], LeafValue = new double[leaves], LeafCover = new double[leaves], LeafIds = new int[leaves],
        };
        int Map(int child)
        {
            if ((uint)child >= (uint)nodes)
            {
                throw ModelLoadException.Corrupt($"Tree {index} refers to node {child}, but it has {nodes} nodes.");
            }

            return left[child] == -1 ? ~leafIndex[child] : internalIndex[child];
        }

        for (var i = 0; i < nodes; i++)
        {
            if (left[i] == -1)
            {
                if (right[i] != -1)
                {
                    throw ModelLoadException.Corrupt($"Tree {index} node {i} has a right child but no left child.");
                }

                var l = leafIndex[i];
                result.LeafValue[l] = conditions[i];
                result.LeafCover[l] = hessian[i];
                result.LeafIds[l] = i;
                continue;
            }

            var k = internalIndex[i];
            result.Left[k] = Map(left[i]);
            result.Right[k] = Map(right[i]);
            result.Feature[k] = indices[i];
            result.Threshold[k] = MathF.BitDecrement(conditions[i]);
            result.Decision[k] = Decision.Make(categorical: false, defaultLeft: defaultLeft[i], Decision.MissingNaN);
            result.Gain[k] = gain[i];
            result.Cover[k] = hessian[i];
        }

        return new SourceTree
        {
            Left = result.Left,
            Right = result.Right,
            Feature = result.Feature,
            Threshold = result.Threshold,
            DecisionType = result.Decision,
            Gain = result.Gain,
            InternalCover = result.Cover,
            LeafValue = result.LeafValue,
            LeafCover = result.LeafCover,
            LeafIds = result.LeafIds,
        };
    }

    private static double Logit(double p)
    {
        if (!(p > 0 && p < 1))
        {
            throw ModelLoadException.Corrupt($"base_score {p} is not a probability.");
        }

        return -Math.Log((1.0 / p) - 1.0);
    }

    /// <summary>
    /// XGBoost writes base_score as "5E-1" (1.x, 2.x) or "[5E-1]" / "[5E-1,5E-1,5E-1]" (3.x intercepts, one per output).
    /// A single value serves every class.
    /// </summary>
    private static double[] ParseBaseScore(string text, int classes)
    {
        var values = text.Trim().TrimStart('[').TrimEnd(']').Split(',')
            .Select(v => (double)float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        if (values.Length == 1)
        {
            return [.. Enumerable.Repeat(values[0], classes)];
        }

        if (values.Length != classes)
        {
            throw ModelLoadException.Corrupt($"base_score has {values.Length} values for {classes} outputs.");
        }

        return values;
    }

    private static int ParseIntString(JsonElement obj, string name, int fallback)
    {
        if (!obj.TryGetProperty(name, out var value))
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number
            ? value.GetInt32()
            : int.Parse(value.GetString() ?? "", NumberStyles.Integer, CultureInfo.InvariantCulture);
    }

    private static int[] Ints(JsonElement tree, string name)
    {
        var array = tree.GetProperty(name);
        var result = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            result[i++] = e.GetInt32();
        }

        return result;
    }

    private static float[] Floats(JsonElement tree, string name, int expected, int index)
    {
        var array = tree.GetProperty(name);
        if (array.GetArrayLength() != expected)
        {
            throw ModelLoadException.Corrupt($"Tree {index}: {name} has {array.GetArrayLength()} values, expected {expected}.");
        }

        var result = new float[expected];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            result[i++] = e.GetSingle();
        }

        return result;
    }

    private static bool[] Bools(JsonElement tree, string name)
    {
        var array = tree.GetProperty(name);
        var result = new bool[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            result[i++] = e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => e.GetInt32() != 0,
            };
        }

        return result;
    }
}
