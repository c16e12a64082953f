module github.com/nearby/nearby

go 1.26

require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/mmcloughlin/geohash v0.10.0 // indirect
)
