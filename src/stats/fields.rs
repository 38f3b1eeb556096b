//! The statistics field by field: a state file's members, written and read
//! one at a time, whatever form (packed, wide, Welford) holds them.

use super::*;

impl Stats {
    /// Statistics of `frames` frames with every value 0, to be filled in
    /// with [`Stats::set_int`] and [`Stats::set_float`] (a state file's
    /// members, one at a time): packed when `exact` and short enough, so a
    /// state is read into the memory its statistics take.
    pub fn zeroed(frames: u64, layout: Layout, exact: bool) -> Result<Stats, Error> {
        let len = layout.len();
        let what = "the statistics";
        let data = if exact && frames <= u64::from(PACKED_FRAMES) {
            Data::Packed(filled(len, Packed::ZERO, what)?)
        } else {
            let moments = if exact {
                Moments::Exact {
                    sum: filled(len, 0, what)?,
                    sum_sq: filled(len, 0, what)?,
                }
            } else {
                Moments::Welford {
                    mean: filled(len, 0.0, what)?,
                    m2: filled(len, 0.0, what)?,
                }
            };
            Data::Wide {
                moments,
                evidence: filled(len, Evidence::default(), what)?,
            }
        };
        Ok(Stats {
            frames,
            layout,
            data,
        })
    }

    /// Sets an integer field of subpixel `i`: Σx, Σx² (exact statistics
    /// only) or an evidence member. The value must be possible for the
    /// statistics' frames.
    pub fn set_int(&mut self, field: Field, i: usize, v: i64) {
        match (&mut self.data, field) {
            (Data::Packed(p), Field::Sum) => p[i].set_sum(v as u32),
            (Data::Packed(p), Field::SumSq) => p[i].set_sum_sq(v as u32),
            (Data::Packed(p), Field::Evidence(k)) => p[i].set_evidence(k, v),
            (Data::Wide { evidence, .. }, Field::Evidence(k)) => {
                (crate::evidence::MEMBERS[k].set)(&mut evidence[i], v)
            }
            (
                Data::Wide {
                    moments: Moments::Exact { sum, .. },
                    ..
                },
                Field::Sum,
            ) => sum[i] = v as u32,
            (
                Data::Wide {
                    moments: Moments::Exact { sum_sq, .. },
                    ..
                },
                Field::SumSq,
            ) => sum_sq[i] = v as u32,
            _ => panic!("{field:?} is not an integer field of these statistics"),
        }
    }

    /// The values of an integer field (see [`Stats::set_int`]) of the
    /// subpixels from `start` on, into `out`, the field chosen once for the
    /// run.
    pub fn ints_run(&self, field: Field, start: usize, out: &mut [i64]) {
        let range = start..start + out.len();
        match (&self.data, field) {
            (Data::Packed(p), Field::Sum) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = w.sum().into();
                }
            }
            (Data::Packed(p), Field::SumSq) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = w.sum_sq().into();
                }
            }
            (Data::Packed(p), Field::Evidence(k)) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = w.evidence_field(k);
                }
            }
            (Data::Wide { evidence, .. }, Field::Evidence(k)) => {
                let get = crate::evidence::MEMBERS[k].get;
                for (o, e) in out.iter_mut().zip(&evidence[range]) {
                    *o = get(e);
                }
            }
            (
                Data::Wide {
                    moments: Moments::Exact { sum, sum_sq },
                    ..
                },
                Field::Sum | Field::SumSq,
            ) => {
                let values = if field == Field::Sum { sum } else { sum_sq };
                for (o, &v) in out.iter_mut().zip(&values[range]) {
                    *o = v.into();
                }
            }
            _ => panic!("{field:?} is not an integer field of these statistics"),
        }
    }

    /// [`Stats::set_int`] for a run of subpixels from `start`, the field
    /// chosen once for the run.
    pub fn set_ints(&mut self, field: Field, start: usize, values: &[i64]) {
        let range = start..start + values.len();
        match (&mut self.data, field) {
            (Data::Packed(p), Field::Sum) => {
                for (w, &v) in p[range.clone()].iter_mut().zip(values) {
                    w.set_sum(v as u32);
                }
            }
            (Data::Packed(p), Field::SumSq) => {
                for (w, &v) in p[range.clone()].iter_mut().zip(values) {
                    w.set_sum_sq(v as u32);
                }
            }
            (Data::Packed(p), Field::Evidence(k)) => {
                for (w, &v) in p[range].iter_mut().zip(values) {
                    w.set_evidence(k, v);
                }
            }
            // The wide form: one array a field, written as it is read.
            _ => {
                for (i, &v) in range.zip(values) {
                    self.set_int(field, i, v);
                }
            }
        }
    }

    /// Sets the mean or M2 of subpixel `i` (Welford statistics only).
    pub fn set_float(&mut self, field: Field, i: usize, v: f32) {
        match (&mut self.data, field) {
            (
                Data::Wide {
                    moments: Moments::Welford { mean, .. },
                    ..
                },
                Field::Mean,
            ) => mean[i] = v,
            (
                Data::Wide {
                    moments: Moments::Welford { m2, .. },
                    ..
                },
                Field::M2,
            ) => m2[i] = v,
            _ => panic!("{field:?} is not a float field of these statistics"),
        }
    }

    /// The values of an integer field, in subpixel order (see
    /// [`Stats::set_int`]).
    pub fn ints(&self, field: Field) -> Box<dyn Iterator<Item = i64> + '_> {
        match (&self.data, field) {
            (Data::Packed(p), Field::Sum) => Box::new(p.iter().map(|w| w.sum().into())),
            (Data::Packed(p), Field::SumSq) => Box::new(p.iter().map(|w| w.sum_sq().into())),
            (Data::Packed(p), Field::Evidence(k)) => {
                let get = crate::evidence::MEMBERS[k].get;
                Box::new(p.iter().map(move |w| get(&w.evidence())))
            }
            (Data::Wide { evidence, .. }, Field::Evidence(k)) => {
                let get = crate::evidence::MEMBERS[k].get;
                Box::new(evidence.iter().map(get))
            }
            (
                Data::Wide {
                    moments: Moments::Exact { sum, .. },
                    ..
                },
                Field::Sum,
            ) => Box::new(sum.iter().map(|&v| v.into())),
            (
                Data::Wide {
                    moments: Moments::Exact { sum_sq, .. },
                    ..
                },
                Field::SumSq,
            ) => Box::new(sum_sq.iter().map(|&v| v.into())),
            _ => panic!("{field:?} is not an integer field of these statistics"),
        }
    }

    /// The means or M2s of Welford statistics, in subpixel order.
    pub fn floats(&self, field: Field) -> &[f32] {
        match (&self.data, field) {
            (
                Data::Wide {
                    moments: Moments::Welford { mean, .. },
                    ..
                },
                Field::Mean,
            ) => mean,
            (
                Data::Wide {
                    moments: Moments::Welford { m2, .. },
                    ..
                },
                Field::M2,
            ) => m2,
            _ => panic!("{field:?} is not a float field of these statistics"),
        }
    }
}
