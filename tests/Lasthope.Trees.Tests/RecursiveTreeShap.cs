using System.Runtime.CompilerServices;
using Lasthope.Trees.Evaluation;

namespace Lasthope.Trees.Tests;

/// <summary>
/// The reference TreeSHAP the fast one is tested against: Lundberg, Erion and Lee (2018), Algorithm 2, recursive, with
/// the unique path's Extend and Unwind, as LightGBM's Tree::TreeSHAP (src/io/tree.cpp) computes it. Slow and simple.
/// </summary>
internal static unsafe class RecursiveTreeShap
{
    private struct PathElement
    {
        public int Feature;
        public double Zero;
        public double One;
        public double Weight;
    }

    /// <summary>Every class's contributions of one document: blocks of feature count + 1, the bias last.</summary>
    public static double[] Explain(TreeModel model, ReadOnlySpan<double> row)
    {
        var forest = model.Forest;
        var width = model.FeatureCount + 1;
        var phi = new double[model.ClassCount * width];
        var keys = new long[forest.SlotCount];
        var maxLength = forest.MaxDepth + 2;
        var buffer = new PathElement[maxLength * (maxLength + 1) / 2];
        fixed (double* r = row)
        fixed (long* x = keys)
        fixed (PathElement* path = buffer)
        fixed (double* all = phi)
        {
            ForestKernels.PreprocessKeys(forest, r, model.FeatureCount, 1, x, 1);
            for (var t = 0; t < forest.TreeCount; t++)
            {
                var p = all + (forest.TreeClass[t] * width);
                var root = forest.Root[t];
                p[width - 1] += forest.Value[root];
                if (!forest.IsLeaf(t, root))
                {
                    Recurse(forest, t, x, p, root, 0, path, 1, 1, -1);
                }
            }
        }

        for (var k = 0; k < model.ClassCount; k++)
        {
            phi[(k * width) + width - 1] += model.BaseScores[k];
        }

        return phi;
    }

    private static void Recurse(CompiledForest forest, int tree, long* x, double* phi, int node, int uniqueDepth,
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

        var hot = ForestKernels.Next(forest, node, x);
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
