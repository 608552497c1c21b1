"""Pure field mappings between systems (no Airflow, no HTTP), one module per pair of concerns.

- :mod:`contentops.mapping.titles`: Consonance titles <-> Smint.io assets (metadata and tags,
  format pairing, usage-rights summaries, the title/asset matching rule, latest vs outdated).
- :mod:`contentops.mapping.vip_catalog`: VIP catalogue entries -> Smint.io assets (which are
  registered, their fields and master links) and approved replacements -> master metadata.
- :mod:`contentops.mapping.intake`: which Smint.io assets answer a creative request, the uses a
  match must be licensed for, and an incoming DAM license read as rights.
- :mod:`contentops.mapping.vip_media`: what a Smint.io asset puts on its VIP media (campaign tag
  prefixes, attributes); :mod:`contentops.mapping.exstream_resources`: the keys of the metadata
  on Exstream images.
- :mod:`contentops.mapping.config`: the mappings users adapt, loaded and validated from YAML
  under ``include/config/mappings/`` (Consonance title fields -> Smint.io keys, Smint.io ->
  VIP media, Exstream image metadata keys).
"""
