using System.Buffers;
using System.Runtime.CompilerServices;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Exact path-dependent TreeSHAP: Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
/// Ensembles" (2018), Algorithm 2, the polynomial-time form also in LightGBM's src/io/tree.cpp (Tree::TreeSHAP).
/// <para>
/// For one tree, the SHAP value of feature i is a weighted sum over the root-to-leaf paths: walking down, the
/// algorithm keeps the "unique path" of features met so far, each with a zero fraction z (the share of training cover
/// that follows this branch when the feature is unknown: cover(child) / cover(node)) and a one fraction o (1 when the
/// document itself follows this branch, else 0), and the permutation weights <c>w</c> of subsets of those features.
/// <c>Extend</c> adds a feature in O(depth); <c>Unwind</c> removes one (a feature split on twice is merged into a single
/// element). At a leaf with value v, feature i of the path receives <c>UnwoundSum(i) * (o_i - z_i) * v</c>. The cost is
/// O(leaves * depth^2) per tree. The contributions plus the bias (the tree's cover-weighted mean output) add up to the
/// document's raw score.
/// </para>
/// </summary>
internal static unsafe class TreeShap
{
    private struct PathElement
    {
        public int Feature;
        public double Zero;
        public double One;
        public double Weight;
    }

    /// <summary>
    /// Adds the contributions of every tree to <paramref name="phi"/> (feature count + 1 entries; the last is the bias).
    /// <paramref name="x"/> holds the document's slot values, one column.
    /// </summary>
    public static void Explain(CompiledForest forest, double* x, Span<double> phi)
    {
        var maxLength = forest.MaxDepth + 2;
        var size = maxLength * (maxLength + 1) / 2;
        var pool = ArrayPool<PathElement>.Shared;
        var buffer = pool.Rent(size);
        try
        {
            fixed (PathElement* path = buffer)
            fixed (double* p = phi)
            {
                var biasIndex = phi.Length - 1;
                for (var t = 0; t < forest.TreeCount; t++)
                {
                    var root = forest.Root[t];
                    p[biasIndex] += forest.Value[root];
                    if (!forest.IsLeaf(t, root))
                    {
                        Recurse(forest, t, x, p, root, 0, path, 1, 1, -1);
                    }
                }
            }
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    private static void Recurse(CompiledForest forest, int tree, double* x, double* phi, int node, int uniqueDepth,
        PathElement* parentPath, double parentZero, double parentOne, int parentFeature)
    {
        // Each level works on its own copy of the path, placed after its parent's in the triangular buffer.
        var path = parentPath + uniqueDepth;
        if (uniqueDepth > 0)
        {
            Unsafe.CopyBlock(path, parentPath, (uint)(uniqueDepth * sizeof(PathElement)));
        }

        Extend(path, uniqueDepth, parentZero, parentOne, parentFeature);
        if (forest.IsLeaf(tree, node))
        {
            var value = forest.Value[node];
            for (var i = 1; i <= uniqueDepth; i++)
            {
                var w = UnwoundSum(path, uniqueDepth, i);
                phi[path[i].Feature] += w * (path[i].One - path[i].Zero) * value;
            }

            return;
        }

        var hot = ForestKernels.Next(forest, node, x, 1, 0);
        var cold = hot == forest.Left[node] ? forest.Right[node] : forest.Left[node];
        var cover = forest.Cover[node];
        var hotZero = cover > 0 ? forest.Cover[hot] / cover : 0.5;
        var coldZero = cover > 0 ? forest.Cover[cold] / cover : 0.5;
        var feature = forest.NodeFeature(node);
        double incomingZero = 1, incomingOne = 1;

        // A feature already on the path is unwound and merged, so each feature appears once.
        var k = 0;
        for (; k <= uniqueDepth; k++)
        {
            if (path[k].Feature == feature)
            {
                break;
            }
        }

        if (k != uniqueDepth + 1)
        {
            incomingZero = path[k].Zero;
            incomingOne = path[k].One;
            Unwind(path, uniqueDepth, k);
            uniqueDepth--;
        }

        Recurse(forest, tree, x, phi, hot, uniqueDepth + 1, path, hotZero * incomingZero, incomingOne, feature);
        Recurse(forest, tree, x, phi, cold, uniqueDepth + 1, path, coldZero * incomingZero, 0, feature);
    }

    /// <summary>Adds a feature with fractions (z, o) to the path and updates the permutation weights.</summary>
    private static void Extend(PathElement* path, int depth, double zero, double one, int feature)
    {
        path[depth].Feature = feature;
        path[depth].Zero = zero;
        path[depth].One = one;
        path[depth].Weight = depth == 0 ? 1.0 : 0.0;
        for (var i = depth - 1; i >= 0; i--)
        {
            path[i + 1].Weight += one * path[i].Weight * (i + 1) / (depth + 1);
            path[i].Weight = zero * path[i].Weight * (depth - i) / (depth + 1);
        }
    }

    /// <summary>Removes element <paramref name="index"/> from the path, inverting <see cref="Extend"/>.</summary>
    private static void Unwind(PathElement* path, int depth, int index)
    {
        var one = path[index].One;
        var zero = path[index].Zero;
        var next = path[depth].Weight;
        for (var i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                var previous = path[i].Weight;
                path[i].Weight = next * (depth + 1) / ((i + 1) * one);
                next = previous - (path[i].Weight * zero * (depth - i) / (depth + 1));
            }
            else
            {
                path[i].Weight = path[i].Weight * (depth + 1) / (zero * (depth - i));
            }
        }

        for (var i = index; i < depth; i++)
        {
            path[i].Feature = path[i + 1].Feature;
            path[i].Zero = path[i + 1].Zero;
            path[i].One = path[i + 1].One;
        }
    }

    /// <summary>The total permutation weight the path would have with element <paramref name="index"/> unwound.</summary>
    private static double UnwoundSum(PathElement* path, int depth, int index)
    {
        var one = path[index].One;
        var zero = path[index].Zero;
        var next = path[depth].Weight;
        var total = 0.0;
        for (var i = depth - 1; i >= 0; i--)
        {
            if (one != 0)
            {
                var tmp = next * (depth + 1) / ((i + 1) * one);
                total += tmp;
                next = path[i].Weight - (tmp * zero * ((depth - i) / (double)(depth + 1)));
            }
            else
            {
                total += path[i].Weight / zero / ((depth - i) / (double)(depth + 1));
            }
        }

        return total;
    }
}
