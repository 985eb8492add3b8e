using PgIg.Util;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Models;

public sealed record TrainResult(SequentialNet Net, double TestAccuracy, IReadOnlyList<double> EpochLosses);

/// <summary>
/// Trains a plain network with Adam and cross-entropy. Autograd is used here only; afterwards the
/// weights are detached tensors that never require grad. Every draw (init, shuffling) comes from
/// generators seeded by the configured seed.
/// </summary>
public static class Trainer
{
    public static TrainResult Train(Architectures.Spec spec, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY,
        int epochs, int batchSize, double learningRate, long seed, Action<int, int, double>? progress = null)
    {
        using var initGen = Seeds.Generator(seed, "init", spec.Name);
        var (w0, b0) = Architectures.Initial(spec, initGen);
        if (trainX.dtype != w0[0].dtype)   // float64 fingerprint probes; float32 runs are untouched
        {
            var initial = w0.Concat(b0).ToList();
            (w0, b0) = (w0.Select(t => t.to(trainX.dtype).DetachFromDisposeScope()).ToList(), b0.Select(t => t.to(trainX.dtype).DetachFromDisposeScope()).ToList());
            foreach (var t in initial) t.Dispose();
        }
        var parameters = w0.Concat(b0).Select(t => new TorchSharp.Modules.Parameter(t, requires_grad: true)).ToList();
        var ws = parameters.Take(w0.Count).ToList();
        var bs = parameters.Skip(w0.Count).ToList();
        var optimizer = torch.optim.Adam(parameters, lr: learningRate);
        // a net over the live parameters; Apply uses functional ops, so autograd sees them
        var live = Architectures.Build(spec, ws.Cast<Tensor>().ToList(), bs.Cast<Tensor>().ToList());
        foreach (var p in parameters) p.requires_grad = true; // Build switches grad off for attribution use

        long n = trainX.shape[0];
        int steps = (int)((n + batchSize - 1) / batchSize);
        var losses = new List<double>();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var shuffleGen = Seeds.Generator(seed, "shuffle", epoch);
            var perm = torch.randperm(n, generator: shuffleGen);
            double total = 0;
            for (int s = 0; s < steps; s++)
            {
                using var scope = torch.NewDisposeScope();
                var idx = perm[TensorIndex.Slice(s * (long)batchSize, Math.Min(n, (s + 1) * (long)batchSize))];
                var x = trainX.index_select(0, idx);
                var y = trainY.index_select(0, idx);
                Tensor h = x;
                foreach (var layer in live.Layers) h = SequentialNet.Apply(layer, h);
                var loss = F.cross_entropy(h, y);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                total += loss.to(ScalarType.Float64).item<double>();   // exact for a float32 loss
                progress?.Invoke(epoch, s + 1, total / (s + 1));
            }
            losses.Add(total / steps);
        }

        var net = Architectures.Build(spec, ws.Select(p => p.detach().clone().DetachFromDisposeScope()).ToList(),
            bs.Select(p => p.detach().clone().DetachFromDisposeScope()).ToList());
        double acc = Accuracy(net, testX, testY);
        foreach (var p in parameters) p.Dispose();
        return new TrainResult(net, acc, losses);
    }

    public static double Accuracy(SequentialNet net, Tensor x, Tensor y, int batch = 1000)
    {
        long correct = 0;
        for (long s = 0; s < x.shape[0]; s += batch)
        {
            using var scope = torch.NewDisposeScope();
            var e = Math.Min(x.shape[0], s + batch);
            var pred = net.Forward(x[TensorIndex.Slice(s, e)]).argmax(1);
            correct += pred.eq(y[TensorIndex.Slice(s, e)]).sum().item<long>();
        }
        return (double)correct / x.shape[0];
    }
}
