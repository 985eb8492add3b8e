using PgIg.Config;

namespace PgIg.Tracks;

public static class TrackFactory
{
    public static ITrack Create(PipelineConfig c) => c.Track switch
    {
        Track.FashionMnist => new FashionMnistTrack(c),
        Track.ImageNet => new ImageNetTrack(c),
        Track.ImageFolder => new ImageFolderTrack(c),
        _ => throw new ConfigException($"{c.SourceFile}: track '{PipelineConfig.TrackName(c.Track)}' is not available in this build"),
    };
}
