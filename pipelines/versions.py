"""The versions and bounds that every row carries, apart from the Arrow schemas built on them
(:mod:`pipelines.schema`): the per-document work in the workers needs these numbers, and
importing pyarrow there cost each worker's fork server 0.1 s and 44 MB."""

#: 2: reports.report_key, processing_version, input_fingerprint; 3: linked_files; 4: stats_cells;
#: 5: document_kind, document_kind_evidence; 6: report_versions, and reports.content_digest,
#: version, first_seen, last_seen; 7: reports.ocr_engine, ocr_engine_version, ocr_pages,
#: ocr_confidence, ocr_low_confidence_pages
SCHEMA_VERSION = 7
#: The version of what processing makes of the same bytes: bump it whenever a change to the
#: pipeline changes the rows it produces, so that ``process`` re-extracts what it skipped.
#: 2: a local file is its path (doc_id), pages record linked_files; 3: rows count their cells;
#: 4: document kinds, no site-level value taken for the document's own (region, agency);
#: 5: paragraphs written as <div> blocks, and a report cut into sections (WordSection1, 2, …),
#: read by the density rule; 6: a text's title found below a bulleted label block or a
#: column's name (乡镇(街道办), 部门年报), not joined with them; 7: content_digest; 8: a region
#: code and a body's number at the start of the 索引号, a postcode telling apart places of one
#: name; 9: listed label blocks (- 信息类别:), an opening that names its report, autonomous
#: prefectures' short names, a meeting's news, 政府办公厅 spelled out; 10: scans read by OCR;
#: 11: a report read from its files reads their label block too, pages published as pictures,
#: tables in scans read by position; 12: a region-titled report's body from its own words
#: (经X人民政府同意…发布, the overview's subject), a site's 来源 naming an office within that body
#: set aside, a notice's or a rule's own title, the year the overview opens on, a notice or a
#: rule known by its opening, a website no body, a city's short name before its zone's, the
#: office that sums up a government's report, a 通报, a notice's red header (…办公室文件)
#: (and round 6's: a notice that passes a document on, a wire story, a list of districts no
#: region, a notice's label title, a news lede's publisher, 请联系 the body itself; round 7's:
#: a report title naming its body and no year, a deadline (5月30日前) no news; round 8's: a
#: place the text mentions read at its own level (我市), a township placed under its county,
#: a city's short name before a named zone, a plan is other, 现向社会公布《X…》; round 9's: a
#: work points' 落实情况报告 is other, a news outlet no body, 编制了《X2016年…》, 2020年,X镇不断…;
#: round 10's: a body and its office are no two-name body, a short name shared by a city and
#: its district decides nothing); 13: scans read by OpenVINO (ocr_engine rapidocr+openvino);
#: a place's press tells apart places of one name, a place in parentheses in a body's name,
#: 由X结合…编制 and 在2024年,X坚决…, a body and a title that disagree keep what they share;
#: round 11's and 12's: a zone's short name spelt out by its page, a forwarded document's
#: issuer, a body whose office compiles its report, 现公布X… below menus, governments listed;
#: 14: a 发布机构 label naming an office of the body the text names is not the report's body;
#: round 12's: places a ranking names, a results headline (…揭晓) is news, a menu's row over
#: the title, a letter-spaced heading, a township's party committee and body as subject, a
#: township under a county of two characters; round 13's: a township's 人民政府 after its name
#: is the body more fully named, 编制《X2025年…》, X行政公署及办公室, a notice's number and
#: recipients on its title's line, a body over a month under the title; round 14's: a year's
#: column (2021年年报) or a site's name over the report's title is not its title
PROCESSING_VERSION = 14

#: ``report_stats.value`` is decimal(VALUE_DIGITS, VALUE_SCALE).
VALUE_DIGITS, VALUE_SCALE = 20, 4
