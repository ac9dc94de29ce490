"""The Scrapy project: portal spiders that fetch report pages and attachments into the lake's
raw zone. It imports :mod:`pipelines` (the lake, the pure parsers); never the other way round."""
